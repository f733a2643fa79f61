"""Request body of "this wasn't me"."""

from __future__ import annotations

import msgspec

from interfaces.http.email.requests import MailToken


class SecureAccountRequest(msgspec.Struct, frozen=True):
    token: MailToken
