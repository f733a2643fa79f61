"""Second factors in memory for unit tests; the contract suite proves them equal to SQL.

No ``await`` sits between a check and its write, so on one event loop each method is as
atomic as the conditional UPDATE it stands in for."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from dataclasses import replace
from datetime import datetime
from typing import TYPE_CHECKING

from domain.entities import NewPasskey, NewUser, Passkey, TotpCredential, User
from domain.errors import EmailTaken, PasskeyExists
from domain.ports import (
    Attested,
    AuditEvent,
    PasskeyAccounts,
    Passkeys,
    RecoveryCodes,
    TotpCredentials,
)
from tests.fakes.repositories import MemoryUserRepository

if TYPE_CHECKING:
    from tests.fakes.activity import MemorySecurityActivity


class _Telling:
    """``activity``: where the changes' entries go (none without it), as the SQL adapters
    write them in the change's transaction."""

    activity: MemorySecurityActivity | None = None

    async def _tell(self, told: AuditEvent | None, user_id: int, at: datetime) -> None:
        if self.activity is not None:
            await self.activity.tell(told, user_id, at)


class MemoryRecoveryCodes(_Telling, RecoveryCodes):
    def __init__(self, activity: MemorySecurityActivity | None = None) -> None:
        self.codes: dict[int, dict[str, datetime | None]] = {}  # digest -> used_at
        self.activity = activity

    async def replace(
        self, user_id: int, digests: Sequence[str], now: datetime, told: AuditEvent | None = None
    ) -> None:
        self.codes[user_id] = dict.fromkeys(digests)
        await self._tell(told, user_id, now)

    async def use(
        self, user_id: int, digest: str, now: datetime, told: AuditEvent | None = None
    ) -> bool:
        mine = self.codes.get(user_id, {})
        if digest not in mine or mine[digest] is not None:
            return False
        mine[digest] = now
        await self._tell(told, user_id, now)
        return True

    async def left(self, user_id: int) -> int:
        return sum(used_at is None for used_at in self.codes.get(user_id, {}).values())


class MemoryTotpCredentials(_Telling, TotpCredentials):
    def __init__(
        self,
        recovery: MemoryRecoveryCodes,
        activity: MemorySecurityActivity | None = None,
        users: MemoryUserRepository | None = None,
    ) -> None:
        self.credentials: dict[int, TotpCredential] = {}
        self._recovery = recovery
        self.activity = activity
        self._users = users  # whose ``updated_at`` an activation moves

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
        self,
        user_id: int,
        sealed_secret: str,
        step: int,
        recovery_digests: Sequence[str],
        now: datetime,
        told: AuditEvent | None = None,
    ) -> bool:
        current = self.credentials.get(user_id)
        if current is None or current.active or current.sealed_secret != sealed_secret:
            return False
        self.credentials[user_id] = replace(current, confirmed_at=now, last_step=step)
        user = None if self._users is None else self._users.users.get(user_id)
        if self._users is not None and user is not None:
            self._users.users[user_id] = replace(user, updated_at=now)
        await self._recovery.replace(user_id, recovery_digests, now)
        await self._tell(told, user_id, now)
        return True

    async def use_step(self, user_id: int, step: int) -> bool:
        current = self.credentials.get(user_id)
        if current is None or not current.active:
            return False
        if current.last_step is not None and current.last_step >= step:
            return False
        self.credentials[user_id] = replace(current, last_step=step)
        return True

    async def remove(self, user_id: int, now: datetime, told: AuditEvent | None = None) -> bool:
        self._recovery.codes.pop(user_id, None)
        removed = self.credentials.pop(user_id, None)
        if removed is None or not removed.active:
            return False
        await self._tell(told, user_id, now)
        return True


class MemoryPasskeys(_Telling, Passkeys):
    def __init__(self, activity: MemorySecurityActivity | None = None) -> None:
        self.passkeys: dict[int, Passkey] = {}
        self._next_id = 1
        self.activity = activity

    async def add(self, passkey: NewPasskey, told: AuditEvent | None = None) -> Passkey:
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
        await self._tell(told, passkey.user_id, passkey.created_at)
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

    async def remove(
        self, user_id: int, passkey_id: int, now: datetime, told: AuditEvent | None = None
    ) -> bool:
        current = self.passkeys.get(passkey_id)
        if current is None or current.user_id != user_id:
            return False
        del self.passkeys[passkey_id]
        await self._tell(told, user_id, now)
        return True

    async def remove_all(
        self, user_id: int, now: datetime, told: AuditEvent | None = None
    ) -> list[int]:
        ids = sorted(p.id for p in self.passkeys.values() if p.user_id == user_id)
        for passkey_id in ids:
            del self.passkeys[passkey_id]
            await self._tell(told, user_id, now)
        return ids


class MemoryPasskeyAccounts(PasskeyAccounts):
    def __init__(self, users: MemoryUserRepository, passkeys: MemoryPasskeys) -> None:
        self._users = users
        self._passkeys = passkeys
        self._lock = asyncio.Lock()

    async def open(
        self,
        user: NewUser,
        passkey: Attested,
        user_handle: bytes,
        told: AuditEvent | None = None,
    ) -> tuple[User, Passkey]:
        async with self._lock:
            return await self._open(user, passkey, user_handle, told)

    async def _open(
        self, user: NewUser, passkey: Attested, user_handle: bytes, told: AuditEvent | None
    ) -> tuple[User, Passkey]:
        # Both clashes are checked before either write, as one SQL transaction undoes both.
        if any(u.email == user.email for u in self._users.users.values()):
            raise EmailTaken()
        if await self._passkeys.by_credential(passkey.credential_id) is not None:
            raise PasskeyExists()
        created = await self._users.add(user, told)
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
