"""Request fields shared by several features. Their constraints are stated for the OpenAPI
document; the domain's value objects enforce them (see ``documented``)."""

from __future__ import annotations

from typing import Annotated, Any

import msgspec
from litestar.openapi.spec import OpenAPIFormat

from domain.values import MAX_EMAIL_LENGTH, NAME_MAX, PASSWORD_MAX, PASSWORD_MIN


def documented(**schema: Any) -> msgspec.Meta:
    """A constraint the use case enforces, stated for the OpenAPI document. Not enforced here:
    the domain normalises first (emails are trimmed) and reports every field at once, where
    msgspec would stop at the first."""
    return msgspec.Meta(extra_json_schema={"extra": schema})


Email = Annotated[str, documented(format=OpenAPIFormat.EMAIL, max_length=MAX_EMAIL_LENGTH)]


NewPassword = Annotated[str, documented(min_length=PASSWORD_MIN, max_length=PASSWORD_MAX)]


Name = Annotated[str, documented(max_length=NAME_MAX)]


# No length stated: with Turnstile off the token is ignored; with it on, one over
# Cloudflare's 2048 characters is refused as a failed captcha (403), not a malformed body.
TurnstileToken = Annotated[
    str,
    msgspec.Meta(
        extra_json_schema={"description": "The Turnstile widget's token (when Turnstile is on)."}
    ),
]


# No length stated: any other string is simply no valid token (401 at refresh, nothing to end
# at logout), not a malformed request.
RefreshToken = Annotated[
    str,
    msgspec.Meta(
        extra_json_schema={
            "description": "The refresh token, opaque to clients and URL-safe (its session"
            " id, a dot, and 256 random bits with a MAC, base64url)."
        }
    ),
]
