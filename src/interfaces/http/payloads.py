"""Request bodies: msgspec Structs that Litestar decodes ``data`` into. Their constraints are
stated for the OpenAPI document; the domain's value objects enforce them (see ``documented``)."""

from __future__ import annotations

from typing import Annotated, Any, Literal

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


class RegisterRequest(msgspec.Struct, frozen=True):
    email: Email
    password: NewPassword
    name: Name | None = None
    turnstile_token: TurnstileToken | None = None


class LoginRequest(msgspec.Struct, frozen=True):
    """``email``, or ``username`` for OAuth2-password-style clients. Any wrong value is the
    same 401 ``invalid_credentials``, so nothing here is constrained."""

    password: str
    email: str | None = None
    username: str | None = None


class RefreshRequest(msgspec.Struct, frozen=True):
    refresh_token: RefreshToken | None = None


class RevokeRequest(msgspec.Struct, frozen=True):
    # A Literal, not bool: Litestar converts in msgspec's lax mode, which takes 1 or "true"
    # for a bool; a Literal of booleans stays strict.
    keep_current: Literal[True, False] = False


class IntrospectRequest(msgspec.Struct, frozen=True):
    """RFC 7662 §2.1, sent as a form (or as JSON)."""

    token: Annotated[str, msgspec.Meta(extra_json_schema={"description": "The token to look at."})]
    token_type_hint: (
        Annotated[
            str,
            msgspec.Meta(
                extra_json_schema={
                    "description": "Ignored (RFC 7662 §2.1 allows it): only access tokens are"
                    " ever active; a refresh token or anything else is `active: false`."
                }
            ),
        ]
        | None
    ) = None
