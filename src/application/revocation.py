"""Ending a session, written once: every way a session ends comes here."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import replace
from datetime import datetime

from application.client import ClientInfo, change_event
from application.compensation import quietly
from application.session_policy import SessionPolicy
from domain.ports import (
    AuditEvent,
    AuditLog,
    Clock,
    RefreshGrantStore,
    SessionRef,
    SessionRepository,
)

NO_CLIENT = ClientInfo()  # an end nobody asked for over HTTP (a repair, a compensation)


class SessionRevoker:
    """Ends sessions everywhere: the grant is dropped and the session's access tokens are
    denied at once (one step in the grant store), then the row is marked revoked with its
    reason, and each session whose row was live is audited as ``session_revoked``: its
    activity row is written in the transaction that ends the row.

    The grant goes first: should the row fail, the session can no longer refresh and a
    retry ends the row; the other way round, a session listed as ended could go on
    refreshing (OWASP ASVS 5.0 V7.4.1: a terminated session stays unusable).
    """

    def __init__(
        self,
        *,
        sessions: SessionRepository,
        grants: RefreshGrantStore,
        policy: SessionPolicy,
        clock: Clock,
        audit: AuditLog,
    ) -> None:
        self._sessions = sessions
        self._grants = grants
        self._policy = policy
        self._clock = clock
        self._audit = audit

    async def revoke(self, session_id: str, user_id: int, reason: str, client: ClientInfo) -> None:
        now = self._clock.now()
        await self._grants.revoke_session(session_id, self._policy.deny_until(now))
        await self._end_row(SessionRef(session_id, user_id), now, reason, client)

    async def revoke_quietly(
        self, session_id: str, user_id: int, reason: str, client: ClientInfo
    ) -> None:
        """Best effort, for a sign-in that failed part-way: each step is tried though the
        one before failed (the grant store may be what failed), and no storage error
        escapes: the caller's own error is what its caller must see."""
        now = self._clock.now()
        await quietly(self._grants.revoke_session(session_id, self._policy.deny_until(now)))
        await quietly(self._end_row(SessionRef(session_id, user_id), now, reason, client))

    async def revoke_many(
        self, sessions: Sequence[SessionRef], reason: str, client: ClientInfo = NO_CLIENT
    ) -> list[str]:
        """End ``sessions``, their rows in one step; the ids whose row was live."""
        now = self._clock.now()
        for session in sessions:
            await self._grants.revoke_session(session.session_id, self._policy.deny_until(now))
        told = _ended(reason, client)
        ended = await self._sessions.revoke_many(
            [s.session_id for s in sessions], now, reason, told
        )
        await self._ended_grants_too(ended, now)
        users = {s.session_id: s.user_id for s in sessions}
        for session_id in ended:
            self._audit.record(replace(told, user_id=users[session_id], session_id=session_id))
        return ended

    async def revoke_all(
        self, user_id: int, keep: str | None, client: ClientInfo, reason: str = "revoke_all"
    ) -> list[str]:
        now = self._clock.now()
        revoked = await self._grants.revoke_user(user_id, self._policy.deny_until(now), keep)
        told = _ended(reason, client, user_id)
        revoked_rows = await self._sessions.revoke_all(user_id, now, reason, keep, told=told)
        await self._ended_grants_too(set(revoked_rows) - set(revoked), now)
        for session_id in sorted(set(revoked) | set(revoked_rows)):
            if session_id in revoked_rows:
                self._audit.record(replace(told, session_id=session_id))
            else:  # a grant whose row had ended already (or was never written)
                self._audit.record(replace(told, session_id=session_id, with_change=False))
        return revoked

    async def _ended_grants_too(self, session_ids: Iterable[str], now: datetime) -> None:
        """Once more, for rows ended here whose grant the first step did not find: a
        sign-in under way (its row written, its grant not yet) stored its grant after that
        step, or a grant dropped at its absolute expiry left an access token that still
        lives. Without this, the one would refresh for its lifetime behind a row that says
        revoked (listed nowhere, its logout a no-op), the other would go on being accepted
        (ASVS 5.0 V7.4.1). A sign-in that stores its grant after this looks at its row
        (``SessionIssuer``)."""
        for session_id in sorted(session_ids):
            await self._grants.revoke_session(session_id, self._policy.deny_until(now))

    async def _end_row(
        self, session: SessionRef, now: datetime, reason: str, client: ClientInfo
    ) -> None:
        told = _ended(reason, client, session.user_id, session.session_id)
        if await self._sessions.revoke(session.session_id, now, reason, told):
            self._audit.record(told)


def _ended(
    reason: str, client: ClientInfo, user_id: int | None = None, session_id: str | None = None
) -> AuditEvent:
    return change_event(
        "session_revoked", client, user_id=user_id, session_id=session_id, reason=reason
    )
