"""Request bodies of the account: sign out everywhere, prove it's you again."""

from __future__ import annotations

from typing import Literal

import msgspec

from interfaces.http.mfa.requests import RecoveryCode, TotpCode
from interfaces.http.passkeys.requests import AuthenticationCredential


class RevokeRequest(msgspec.Struct, frozen=True):
    # A Literal, not bool: Litestar converts in msgspec's lax mode, which takes 1 or "true"
    # for a bool; a Literal of booleans stays strict.
    keep_current: Literal[True, False] = False


class ReauthenticateRequest(msgspec.Struct, frozen=True):
    """One proof: ``password`` (with ``code`` or ``recovery_code`` on an account with an
    authenticator app), or ``credential`` answering
    ``POST /auth/passkeys/reauthenticate/options``."""

    password: str | None = None
    code: TotpCode | None = None
    recovery_code: RecoveryCode | None = None
    credential: AuthenticationCredential | None = None
