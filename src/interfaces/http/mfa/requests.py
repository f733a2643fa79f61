"""Request bodies of the authenticator app and the second step of a sign-in."""

from __future__ import annotations

from typing import Annotated

import msgspec

from application.mfa.codes import CODE_MAX
from interfaces.http.requests import documented

# Enforced by the use case (spaces are forgiven, and any bad code is one problem), so only
# stated here.
TotpCode = Annotated[str, documented(pattern=r"^[0-9 ]{6,7}$", examples=["123456"])]


RecoveryCode = Annotated[
    str, documented(min_length=10, max_length=CODE_MAX, examples=["7hq2m-x4k9d"])
]


MfaToken = Annotated[str, documented(min_length=32, max_length=128)]


class TotpCodeRequest(msgspec.Struct, frozen=True):
    code: TotpCode


class DisableTotpRequest(msgspec.Struct, frozen=True):
    """The current password, or a current code of the app: one of them."""

    password: str | None = None
    code: TotpCode | None = None


class MfaLoginRequest(msgspec.Struct, frozen=True):
    """The ``mfa_token`` of the 401 ``mfa_required`` (or, after a provider's sign-in, none:
    the ``mfa_pending`` cookie holds it), and a code of the app or a recovery code: one of
    them."""

    mfa_token: MfaToken | None = None
    code: TotpCode | None = None
    recovery_code: RecoveryCode | None = None
