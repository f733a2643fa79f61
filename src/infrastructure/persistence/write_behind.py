"""Session touches written behind: a refresh records ``last_used_at`` in process memory,
and a background task writes them in batches, each session at most once per ``spacing``.

So a refresh never waits for (or fails on) the SQL database, and a busy session costs one
UPDATE a minute instead of one per refresh. Reads through this repository see the pending
touches of this process; another worker's touches show once written (within ``spacing``).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Sequence
from dataclasses import replace
from datetime import datetime, timedelta

from application.pacing import stopped
from domain.entities import Session
from domain.errors import StorageUnavailable, cause_of
from domain.ports import AuditEvent, Clock, SessionRepository
from infrastructure.persistence.sessions import SqlSessionRepository, Touch

log = logging.getLogger("authgate")


class WriteBehindSessions(SessionRepository):
    def __init__(
        self,
        sessions: SqlSessionRepository,
        clock: Clock,
        *,
        every: float = 1.0,
        spacing: timedelta = timedelta(minutes=1),
    ) -> None:
        self._sessions = sessions
        self._clock = clock
        self._every = every
        self._spacing = spacing
        self._pending: dict[str, Touch] = {}
        self._written: dict[str, datetime] = {}  # session id → when this process wrote it

    async def add(self, session: Session, told: AuditEvent | None = None) -> None:
        await self._sessions.add(session, told)

    async def get(self, session_id: str) -> Session | None:
        return self._overlay(await self._sessions.get(session_id))

    async def touch(self, session_id: str, last_used_at: datetime, expires_at: datetime) -> None:
        self._pending[session_id] = Touch(session_id, last_used_at, expires_at)

    async def revoke(
        self, session_id: str, now: datetime, reason: str, told: AuditEvent | None = None
    ) -> bool:
        self._pending.pop(session_id, None)
        return await self._sessions.revoke(session_id, now, reason, told)

    async def revoke_all(
        self,
        user_id: int,
        now: datetime,
        reason: str,
        keep: str | None = None,
        told: AuditEvent | None = None,
    ) -> list[str]:
        revoked = await self._sessions.revoke_all(user_id, now, reason, keep, told)
        for session_id in revoked:
            self._pending.pop(session_id, None)
        return revoked

    async def revoke_many(
        self,
        session_ids: Sequence[str],
        now: datetime,
        reason: str,
        told: AuditEvent | None = None,
    ) -> list[str]:
        revoked = await self._sessions.revoke_many(session_ids, now, reason, told)
        for session_id in revoked:
            self._pending.pop(session_id, None)
        return revoked

    async def revoked_since(self, since: datetime) -> list[Session]:
        return await self._sessions.revoked_since(since)

    async def live_page(
        self, now: datetime, created_before: datetime, after: str = "", limit: int = 500
    ) -> list[Session]:
        """Expiry as written: a pending touch may have moved it later, never earlier, so a
        session found live here is live."""
        return await self._sessions.live_page(now, created_before, after, limit)

    async def delete_ended(
        self, started_before: datetime, ended_before: datetime, limit: int
    ) -> int:
        """This process's pending touches are written first: a session one of them keeps
        alive must not read as ended. (Another process's wait their turn: the caller's slack
        is far longer than their spacing.)"""
        await self.flush(everything=True)
        return await self._sessions.delete_ended(started_before, ended_before, limit)

    async def list_live(self, user_id: int, now: datetime) -> list[Session]:
        found = [self._overlay(s) for s in await self._sessions.list_live(user_id, now)]
        return [s for s in found if s is not None and s.is_live(now)]

    async def flush(self, *, everything: bool = False) -> None:
        """Write the touches that are due (all of them with ``everything``) in one batch."""
        now = self._clock.now()
        self._written = {s: at for s, at in self._written.items() if now - at < self._spacing}
        due = [t for s, t in self._pending.items() if everything or s not in self._written]
        if not due:
            return
        await self._sessions.touch_many(due)
        for touch in due:
            if self._pending.get(touch.session_id) == touch:
                del self._pending[touch.session_id]
            self._written[touch.session_id] = now

    async def run(self, stop: asyncio.Event) -> None:
        """Write the due touches every ``every`` seconds until ``stop`` is set (the app's
        lifespan); ``flush_all`` writes the rest when the app closes."""
        while not await stopped(stop, self._every):
            try:
                await self.flush()
            except StorageUnavailable as e:  # kept pending, written when the database is back
                log.warning("session touches not written: database unavailable: %s", cause_of(e))

    async def flush_all(self) -> None:
        with contextlib.suppress(StorageUnavailable):
            await self.flush(everything=True)

    def _overlay(self, session: Session | None) -> Session | None:
        touch = self._pending.get(session.id) if session is not None else None
        if session is None or touch is None or session.revoked_at is not None:
            return session
        return replace(session, last_used_at=touch.last_used_at, expires_at=touch.expires_at)
