"""Response bodies of the passkeys."""

from __future__ import annotations

import msgspec

from domain.entities import Passkey
from interfaces.timestamps import iso


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
