"""Users with a small per-process cache of profiles, for ``/auth/me``.

Only ``profile`` is cached, for at most ``ttl``; every other read goes to the database (a
password check never sees a cached hash). This process's own writes to a user drop its
entry at once; a write in another worker shows within ``ttl``. Revocation never depends on
it: the session denylist is checked on every request before any profile is read, and a
disabled user's sessions are revoked (OWASP ASVS V3.3: logout and revocation take effect
at once; only the displayed profile may lag, by a second).
"""

from __future__ import annotations

import time
from datetime import datetime

from domain.entities import ExternalIdentity, NewUser, User
from domain.ports import AuditEvent, UserProfiles, UserRepository

MAX_ENTRIES = 10_000


class CachedProfiles(UserRepository, UserProfiles):
    def __init__(self, users: UserRepository, *, ttl: float = 1.0) -> None:
        self._users = users
        self._ttl = ttl
        self._cache: dict[int, tuple[float, User]] = {}

    async def profile(self, user_id: int) -> User | None:
        now = time.monotonic()
        hit = self._cache.get(user_id)
        if hit is not None and now - hit[0] < self._ttl:
            return hit[1]
        user = await self._users.get(user_id)
        if len(self._cache) >= MAX_ENTRIES:
            self._cache.clear()
        if user is None:
            self._cache.pop(user_id, None)
        else:
            self._cache[user_id] = (now, user)
        return user

    def forget(self, user_id: int) -> None:
        """A change to the user committed elsewhere in this process (a verified email, an
        admin's change): its next profile is read afresh."""
        self._cache.pop(user_id, None)

    async def add(self, user: NewUser, told: AuditEvent | None = None) -> User:
        return await self._users.add(user, told)

    async def remove(self, user_id: int) -> None:
        self._cache.pop(user_id, None)
        await self._users.remove(user_id)

    async def get(self, user_id: int) -> User | None:
        return await self._users.get(user_id)

    async def get_by_email(self, email: str) -> User | None:
        return await self._users.get_by_email(email)

    async def get_by_identity(self, provider: str, subject: str) -> User | None:
        return await self._users.get_by_identity(provider, subject)

    async def link_identity(self, identity: ExternalIdentity) -> None:
        self._cache.pop(identity.user_id, None)
        await self._users.link_identity(identity)

    async def unlink_identities_since(
        self, user_id: int, since: datetime, now: datetime, told: AuditEvent | None = None
    ) -> list[str]:
        self._cache.pop(user_id, None)
        return await self._users.unlink_identities_since(user_id, since, now, told)

    async def rehash_password(
        self, user_id: int, verified: str, password_hash: str, now: datetime
    ) -> None:
        self._cache.pop(user_id, None)
        await self._users.rehash_password(user_id, verified, password_hash, now)
