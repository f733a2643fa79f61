"""Request bodies of sign-in by a mailed code or link."""

from __future__ import annotations

import msgspec

from interfaces.http.email.requests import MailToken
from interfaces.http.requests import Email, TurnstileToken


class EmailSignInRequest(msgspec.Struct, frozen=True):
    email: Email
    turnstile_token: TurnstileToken | None = None


class EmailSignInCompletion(msgspec.Struct, frozen=True):
    """``{"email", "code"}`` from the browser that asked (its ``signin_pending`` cookie, or
    ``request_id`` from the 202 for a client without cookies), or ``{"token"}`` from the
    mailed link, on any device."""

    email: Email | None = None
    code: str | None = None
    request_id: str | None = None
    token: MailToken | None = None
