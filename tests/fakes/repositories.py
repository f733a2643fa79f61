"""In-memory users and sessions for unit tests; the contract suite proves them equal to
the SQL adapters."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Sequence
from dataclasses import replace
from datetime import datetime
from typing import TYPE_CHECKING

from domain.entities import ADMIN_ROLE, ExternalIdentity, NewUser, Session, User
from domain.errors import EmailTaken, LastAdmin
from domain.ports import (
    AuditEvent,
    Outbox,
    OutgoingMail,
    SessionRepository,
    UserAdministration,
    UserRepository,
)

if TYPE_CHECKING:
    from tests.fakes.activity import MemorySecurityActivity


class MemoryUserRepository(UserRepository):
    def __init__(self) -> None:
        self.users: dict[int, User] = {}
        self.identities: dict[tuple[str, str], ExternalIdentity] = {}
        self._lock = asyncio.Lock()
        # Where the sign-up's entry goes (none without it); set once the activity, which
        # reads these users, is made.
        self.activity: MemorySecurityActivity | None = None
        # Whether an address is kept for another account's way back (set by the mail fake,
        # which holds the tokens that keep it), as of a time.
        self.held: Callable[[str, datetime, int], bool] = lambda email, now, user_id: False

    async def add(self, user: NewUser, told: AuditEvent | None = None) -> User:
        async with self._lock:
            if any(u.email == user.email for u in self.users.values()):
                raise EmailTaken()
            if self.held(user.email, user.created_at, 0):
                raise EmailTaken()
            await asyncio.sleep(0)  # let racing registrations interleave, as a database would
            created = User(
                id=max(self.users, default=0) + 1,
                email=user.email,
                password_hash=user.password_hash,
                name=user.name,
                role=user.role,
                created_at=user.created_at,
                updated_at=user.created_at,
                email_verified_at=user.email_verified_at,
            )
            self.users[created.id] = created
            if self.activity is not None:
                await self.activity.tell(told, created.id, created.created_at)
            return created

    async def remove(self, user_id: int) -> None:
        self.users.pop(user_id, None)
        if self.activity is not None:
            self.activity.erase(user_id)
        self.identities = {k: v for k, v in self.identities.items() if v.user_id != user_id}

    async def get(self, user_id: int) -> User | None:
        return self.users.get(user_id)

    async def get_by_email(self, email: str) -> User | None:
        return next((u for u in self.users.values() if u.email == email), None)

    async def get_by_identity(self, provider: str, subject: str) -> User | None:
        identity = self.identities.get((provider, subject))
        return self.users.get(identity.user_id) if identity else None

    async def link_identity(self, identity: ExternalIdentity) -> None:
        self.identities.setdefault((identity.provider, identity.subject), identity)

    async def unlink_identities_since(
        self, user_id: int, since: datetime, now: datetime, told: AuditEvent | None = None
    ) -> list[str]:
        gone = {
            key: identity
            for key, identity in self.identities.items()
            if identity.user_id == user_id and identity.created_at >= since
        }
        for key in gone:
            del self.identities[key]
        if gone and self.activity is not None:
            await self.activity.tell(told, user_id, now)
        return sorted(identity.provider for identity in gone.values())

    async def rehash_password(
        self, user_id: int, verified: str, password_hash: str, now: datetime
    ) -> None:
        user = self.users.get(user_id)
        if user is not None and user.password_hash == verified:
            self.users[user_id] = replace(user, password_hash=password_hash, updated_at=now)


class MemorySessionRepository(SessionRepository):
    """``activity``: where the changes' entries go (none without it)."""

    def __init__(self, activity: MemorySecurityActivity | None = None) -> None:
        self.sessions: dict[str, Session] = {}
        self._activity = activity

    async def add(self, session: Session, told: AuditEvent | None = None) -> None:
        self.sessions[session.id] = session
        await self._tell(told, session.user_id, session.created_at)

    async def _tell(self, told: AuditEvent | None, user_id: int, at: datetime) -> None:
        if self._activity is not None:
            await self._activity.tell(told, user_id, at)

    async def get(self, session_id: str) -> Session | None:
        return self.sessions.get(session_id)

    async def touch(self, session_id: str, last_used_at: datetime, expires_at: datetime) -> None:
        session = self.sessions.get(session_id)
        if session is not None and session.revoked_at is None:
            self.sessions[session_id] = replace(
                session, last_used_at=last_used_at, expires_at=expires_at
            )

    async def revoke(
        self, session_id: str, now: datetime, reason: str, told: AuditEvent | None = None
    ) -> bool:
        session = self.sessions.get(session_id)
        if session is None or session.revoked_at is not None:
            return False
        self.sessions[session_id] = replace(session, revoked_at=now, revoked_reason=reason)
        ended = None if told is None else replace(told, session_id=session_id)
        await self._tell(ended, session.user_id, now)
        return True

    async def revoke_all(
        self,
        user_id: int,
        now: datetime,
        reason: str,
        keep: str | None = None,
        told: AuditEvent | None = None,
    ) -> list[str]:
        ids = sorted(
            s.id
            for s in self.sessions.values()
            if s.user_id == user_id and s.revoked_at is None and s.id != keep
        )
        for session_id in ids:
            await self.revoke(session_id, now, reason, told)
        return ids

    async def list_live(self, user_id: int, now: datetime) -> list[Session]:
        live = [s for s in self.sessions.values() if s.user_id == user_id and s.is_live(now)]
        return sorted(live, key=lambda s: (-s.created_at.timestamp(), s.id))

    async def revoke_many(
        self,
        session_ids: Sequence[str],
        now: datetime,
        reason: str,
        told: AuditEvent | None = None,
    ) -> list[str]:
        return [sid for sid in sorted(session_ids) if await self.revoke(sid, now, reason, told)]

    async def revoked_since(self, since: datetime) -> list[Session]:
        revoked = [s for s in self.sessions.values() if s.revoked_at and s.revoked_at > since]
        return sorted(revoked, key=lambda s: (s.revoked_at or since, s.id))

    async def live_page(
        self, now: datetime, created_before: datetime, after: str = "", limit: int = 500
    ) -> list[Session]:
        live = sorted(
            (s for s in self.sessions.values() if s.id > after and s.is_live(now)),
            key=lambda s: s.id,
        )
        return [s for s in live if s.created_at < created_before][:limit]

    async def delete_ended(
        self, started_before: datetime, ended_before: datetime, limit: int
    ) -> int:
        ended = [
            s.id
            for s in sorted(self.sessions.values(), key=lambda s: s.created_at)
            if s.created_at < started_before
            and s.expires_at < ended_before
            and (s.revoked_at is None or s.revoked_at < ended_before)
        ][:limit]
        for session_id in ended:
            del self.sessions[session_id]
        return len(ended)


class MemoryUserAdministration(UserAdministration):
    """The administrator's view of a ``MemoryUserRepository``'s users."""

    def __init__(
        self,
        users: MemoryUserRepository,
        *,
        outbox: Outbox | None = None,
        also_erase: Callable[[int], None] | None = None,
    ) -> None:
        self._users = users
        self._outbox = outbox
        self._also_erase = also_erase

    async def page(self, *, after: int | None, limit: int, email: str | None) -> list[User]:
        found = [
            u
            for _, u in sorted(self._users.users.items())
            if u.id > (after or 0) and (email is None or u.email == email)
        ]
        return found[:limit]

    async def identities(self, user_id: int) -> list[ExternalIdentity]:
        mine = [i for i in self._users.identities.values() if i.user_id == user_id]
        return sorted(mine, key=lambda i: i.created_at)

    async def set_disabled(
        self,
        user_id: int,
        disabled_at: datetime | None,
        now: datetime,
        told: AuditEvent | None = None,
    ) -> bool:
        user = self._users.users.get(user_id)
        if user is None:
            return False
        if disabled_at is not None and await self.last_active_admin(user_id):
            raise LastAdmin()
        kept = disabled_at if user.disabled_at is None or disabled_at is None else user.disabled_at
        self._users.users[user_id] = replace(user, disabled_at=kept, updated_at=now)
        await self._tell(told, user_id, now)
        return True

    async def set_role(
        self, user_id: int, role: str, now: datetime, told: AuditEvent | None = None
    ) -> bool:
        user = self._users.users.get(user_id)
        if user is None:
            return False
        if role != ADMIN_ROLE and await self.last_active_admin(user_id):
            raise LastAdmin()
        self._users.users[user_id] = replace(user, role=role, updated_at=now)
        await self._tell(told, user_id, now)
        return True

    async def _tell(self, told: AuditEvent | None, user_id: int, at: datetime) -> None:
        if self._users.activity is not None:
            await self._users.activity.tell(told, user_id, at)

    async def last_active_admin(self, user_id: int) -> bool:
        active = [u.id for u in self._users.users.values() if u.is_admin and not u.disabled]
        return active == [user_id]

    async def erase(
        self, user_id: int, now: datetime, farewell: OutgoingMail | None = None
    ) -> bool:
        if user_id not in self._users.users:
            return False
        await self._users.remove(user_id)
        if self._also_erase is not None:
            self._also_erase(user_id)
        if farewell is not None and self._outbox is not None:
            await self._outbox.enqueue(farewell, now)
        return True

    async def insert_new(self, users: Sequence[NewUser], now: datetime) -> set[str]:
        fresh = [u for u in users if u.email not in await self.taken([u.email], now)]
        for user in fresh:
            await self._users.add(user)
        return {u.email for u in fresh}

    async def taken(self, emails: Sequence[str], now: datetime) -> set[str]:
        known = {u.email for u in self._users.users.values()}
        return {e for e in emails if e in known or self._users.held(e, now, 0)}
