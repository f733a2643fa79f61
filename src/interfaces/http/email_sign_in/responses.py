"""The answer to a sign-in mail request."""

from __future__ import annotations

import msgspec


class SignInMailBody(msgspec.Struct, frozen=True):
    """202, the same for any address. ``request_id`` only with ``X-Auth-Transport: body``:
    a browser holds it in an HttpOnly cookie instead."""

    status: str
    detail: str
    request_id: str | msgspec.UnsetType = msgspec.UNSET
