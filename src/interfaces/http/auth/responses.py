"""Response bodies of sign-up and sign-in."""

from __future__ import annotations

from typing import Literal

import msgspec

from interfaces.http.responses import UserBody


class AwaitingVerificationBody(msgspec.Struct, frozen=True):
    """Register's answer under AUTH_REQUIRE_VERIFIED_EMAIL: the account, no session yet. The
    required flag keeps it apart from ``TokenBody`` in the OpenAPI ``oneOf``."""

    user: UserBody
    email_verification_required: Literal[True]
