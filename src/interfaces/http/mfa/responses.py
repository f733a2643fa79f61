"""Response bodies of the authenticator app and the second step of a sign-in."""

from __future__ import annotations

import msgspec

from interfaces.http.responses import Problem


class SecondFactorsBody(msgspec.Struct, frozen=True):
    """Whether the authenticator app is on, how many recovery codes and passkeys there are,
    and whether the account has a password (one without may set one)."""

    totp: bool
    recovery_codes_left: int
    passkeys: int
    password: bool


class TotpSetupBody(msgspec.Struct, frozen=True):
    secret: str
    otpauth_uri: str


class RecoveryCodesBody(msgspec.Struct, frozen=True):
    """Shown once: only digests are kept."""

    recovery_codes: list[str]


class AppConfirmedBody(msgspec.Struct, frozen=True):
    """The recovery codes, shown once, and an access token of the caller's session, which
    the right code has just made aal2 (``amr`` gains ``otp`` and ``mfa``)."""

    recovery_codes: list[str]
    access_token: str
    expires_in: int
    token_type: str = "Bearer"


class MfaProblem(Problem):
    """A 401 problem; ``mfa_required`` adds the token and the methods that complete it."""

    mfa_token: str | msgspec.UnsetType = msgspec.UNSET
    methods: list[str] | msgspec.UnsetType = msgspec.UNSET
