"""Response bodies of the second-factor endpoints."""

from __future__ import annotations

import msgspec

from domain.entities import Passkey
from interfaces.http.bodies import Problem
from interfaces.timestamps import iso


class SecondFactorsBody(msgspec.Struct, frozen=True):
    """Whether the authenticator app is on, and how many recovery codes and passkeys there are."""

    totp: bool
    recovery_codes_left: int
    passkeys: int


class TotpSetupBody(msgspec.Struct, frozen=True):
    secret: str
    otpauth_uri: str


class RecoveryCodesBody(msgspec.Struct, frozen=True):
    """Shown once: only digests are kept."""

    recovery_codes: list[str]


class PasskeyBody(msgspec.Struct, frozen=True):
    id: int
    name: str | None
    created_at: str
    last_used_at: str | None
    transports: list[str]

    @classmethod
    def of(cls, passkey: Passkey) -> PasskeyBody:
        return cls(
            id=passkey.id,
            name=passkey.name,
            created_at=iso(passkey.created_at),
            last_used_at=iso(passkey.last_used_at) if passkey.last_used_at else None,
            transports=list(passkey.transports),
        )


class PasskeysBody(msgspec.Struct, frozen=True):
    passkeys: list[PasskeyBody]


class AddedPasskeyBody(msgspec.Struct, frozen=True):
    passkey: PasskeyBody


class MfaProblem(Problem):
    """A 401 problem; ``mfa_required`` adds the token and the methods that complete it."""

    mfa_token: str | msgspec.UnsetType = msgspec.UNSET
    methods: list[str] | msgspec.UnsetType = msgspec.UNSET
