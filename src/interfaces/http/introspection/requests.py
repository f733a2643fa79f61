"""Request body of token introspection (RFC 7662 §2.1)."""

from __future__ import annotations

from typing import Annotated

import msgspec


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
