"""Second factors in memory for unit tests; the contract suite proves them equal to SQL.

No ``await`` sits between a check and its write, so on one event loop each method is as
atomic as the conditional UPDATE it stands in for."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from dataclasses import replace
from datetime import datetime

from domain.entities import NewPasskey, NewUser, Passkey, TotpCredential, User
from domain.errors import EmailTaken, PasskeyExists
from domain.ports import Attested, PasskeyAccounts, Passkeys, RecoveryCodes, TotpCredentials
from tests.fakes.repositories import MemoryUserRepository


class MemoryRecoveryCodes(RecoveryCodes):
    def __init__(self) -> None:
        self.codes: dict[int, dict[str, datetime | None]] = {}  # digest -> used_at

    async def replace(self, user_id: int, digests: Sequence[str], now: datetime) -> None:
        self.codes[user_id] = dict.fromkeys(digests)

    async def use(self, user_id: int, digest: str, now: datetime) -> bool:
        mine = self.codes.get(user_id, {})
        if digest not in mine or mine[digest] is not None:
            return False
        mine[digest] = now
        return True

    async def left(self, user_id: int) -> int:
        return sum(used_at is None for used_at in self.codes.get(user_id, {}).values())


class MemoryTotpCredentials(TotpCredentials):
    def __init__(self, recovery: MemoryRecoveryCodes) -> None:
        self.credentials: dict[int, TotpCredential] = {}
        self._recovery = recovery

    async def get(self, user_id: int) -> TotpCredential | None:
        return self.credentials.get(user_id)

    async def start(self, user_id: int, sealed_secret: str, now: datetime) -> bool:
        current = self.credentials.get(user_id)
        if current is not None and current.active:
            return False
        self.credentials[user_id] = TotpCredential(
            user_id=user_id, sealed_secret=sealed_secret, last_step=None, created_at=now
        )
        return True

    async def activate(
        self, user_id: int, step: int, recovery_digests: Sequence[str], now: datetime
    ) -> bool:
        current = self.credentials.get(user_id)
        if current is None or current.active:
            return False
        self.credentials[user_id] = replace(current, confirmed_at=now, last_step=step)
        await self._recovery.replace(user_id, recovery_digests, now)
        return True

    async def use_step(self, user_id: int, step: int) -> bool:
        current = self.credentials.get(user_id)
        if current is None or not current.active:
            return False
        if current.last_step is not None and current.last_step >= step:
            return False
        self.credentials[user_id] = replace(current, last_step=step)
        return True

    async def remove(self, user_id: int, now: datetime) -> bool:
        self._recovery.codes.pop(user_id, None)
        removed = self.credentials.pop(user_id, None)
        return removed is not None and removed.active


class MemoryPasskeys(Passkeys):
    def __init__(self) -> None:
        self.passkeys: dict[int, Passkey] = {}
        self._next_id = 1

    async def add(self, passkey: NewPasskey) -> Passkey:
        if any(p.credential_id == passkey.credential_id for p in self.passkeys.values()):
            raise PasskeyExists()
        added = Passkey(
            id=self._next_id,
            user_id=passkey.user_id,
            credential_id=passkey.credential_id,
            public_key=passkey.public_key,
            sign_count=passkey.sign_count,
            transports=passkey.transports,
            user_handle=passkey.user_handle,
            name=passkey.name,
            created_at=passkey.created_at,
            at_sign_up=passkey.at_sign_up,
        )
        self.passkeys[added.id] = added
        self._next_id += 1
        return added

    async def of_user(self, user_id: int) -> list[Passkey]:
        mine = [p for p in self.passkeys.values() if p.user_id == user_id]
        return sorted(mine, key=lambda p: (p.created_at, p.id))

    async def by_credential(self, credential_id: bytes) -> Passkey | None:
        return next((p for p in self.passkeys.values() if p.credential_id == credential_id), None)

    async def record_use(
        self, passkey_id: int, seen_count: int, new_count: int, now: datetime
    ) -> bool:
        current = self.passkeys.get(passkey_id)
        if current is None or current.sign_count != seen_count:
            return False
        self.passkeys[passkey_id] = replace(current, sign_count=new_count, last_used_at=now)
        return True

    async def remove(self, user_id: int, passkey_id: int, now: datetime) -> bool:
        current = self.passkeys.get(passkey_id)
        if current is None or current.user_id != user_id:
            return False
        del self.passkeys[passkey_id]
        return True

    async def remove_all(self, user_id: int, now: datetime) -> list[int]:
        ids = sorted(p.id for p in self.passkeys.values() if p.user_id == user_id)
        for passkey_id in ids:
            del self.passkeys[passkey_id]
        return ids


class MemoryPasskeyAccounts(PasskeyAccounts):
    def __init__(self, users: MemoryUserRepository, passkeys: MemoryPasskeys) -> None:
        self._users = users
        self._passkeys = passkeys
        self._lock = asyncio.Lock()

    async def open(
        self, user: NewUser, passkey: Attested, user_handle: bytes
    ) -> tuple[User, Passkey]:
        async with self._lock:
            return await self._open(user, passkey, user_handle)

    async def _open(
        self, user: NewUser, passkey: Attested, user_handle: bytes
    ) -> tuple[User, Passkey]:
        # Both clashes are checked before either write, as one SQL transaction undoes both.
        if any(u.email == user.email for u in self._users.users.values()):
            raise EmailTaken()
        if await self._passkeys.by_credential(passkey.credential_id) is not None:
            raise PasskeyExists()
        created = await self._users.add(user)
        added = await self._passkeys.add(
            NewPasskey(
                user_id=created.id,
                credential_id=passkey.credential_id,
                public_key=passkey.public_key,
                sign_count=passkey.sign_count,
                transports=passkey.transports,
                user_handle=user_handle,
                name=None,
                created_at=user.created_at,
                at_sign_up=True,
            )
        )
        return created, added
