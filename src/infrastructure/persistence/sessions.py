from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from datetime import datetime
from typing import NamedTuple

from domain.entities import Session
from domain.ports import AuditEvent, SessionIdsOfUser, SessionRepository, WebhookEvent
from infrastructure.persistence.account_events import record_event
from infrastructure.persistence.database import (
    Database,
    Row,
    Tx,
    as_datetime,
    as_optional_datetime,
    skip_locked,
)
from infrastructure.persistence.security_events import record_session_revoked

_COLUMNS = (
    "id, user_id, ip_address, user_agent, created_at, last_used_at, expires_at,"
    " revoked_at, revoked_reason"
)


class Touch(NamedTuple):
    session_id: str
    last_used_at: datetime
    expires_at: datetime


# Several processes write their touches behind, each on its own schedule, so an older
# touch may land after a newer one: a session's last use (and its idle expiry) only moves
# forward.
_TOUCH = (
    "UPDATE sessions SET last_used_at = $1, expires_at = $2"
    " WHERE id = $3 AND revoked_at IS NULL AND last_used_at <= $1"
)


def _session(row: Row) -> Session:
    return Session(
        id=row["id"],
        user_id=int(row["user_id"]),
        ip_address=row["ip_address"],
        user_agent=row["user_agent"],
        created_at=as_datetime(row["created_at"]),
        last_used_at=as_datetime(row["last_used_at"]),
        expires_at=as_datetime(row["expires_at"]),
        revoked_at=as_optional_datetime(row["revoked_at"]),
        revoked_reason=row["revoked_reason"],
    )


class SqlSessionRepository(SessionRepository):
    """``signals``: resource servers poll for the ends of sessions (AUTH_SSF_RECEIVERS);
    without any, no security event is written."""

    def __init__(self, database: Database, *, signals: bool = True) -> None:
        self._signals = signals
        self._db = database
        self._skip_locked = skip_locked(database)

    async def add(self, session: Session, told: AuditEvent | None = None) -> None:
        async def work(tx: Tx) -> None:
            await tx.execute(
                f"INSERT INTO sessions ({_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
                session.id,
                session.user_id,
                session.ip_address,
                session.user_agent,
                session.created_at,
                session.last_used_at,
                session.expires_at,
                session.revoked_at,
                session.revoked_reason,
            )
            await record_event(
                tx,
                WebhookEvent.SESSION_CREATED,
                session.user_id,
                session.created_at,
                told=told,
                session_id=session.id,
            )

        await self._db.run(work)

    async def get(self, session_id: str) -> Session | None:
        # Every sign-in reads its own row back once its grant exists (``SessionIssuer``).
        row = await self._db.read_key(f"SELECT {_COLUMNS} FROM sessions WHERE id = $1", session_id)
        return _session(row) if row is not None else None

    async def touch(self, session_id: str, last_used_at: datetime, expires_at: datetime) -> None:
        await self.touch_many([Touch(session_id, last_used_at, expires_at)])

    async def touch_many(self, touches: list[Touch]) -> None:
        """Several touches in one transaction (the write-behind batch). Rows are locked in
        one order, by session id, in every process: two batches that share sessions then
        never wait for each other crosswise, which PostgreSQL ends as a deadlock (the same
        order in ``revoke_many``)."""

        async def work(tx: Tx) -> None:
            for touch in sorted(touches):
                await tx.execute(_TOUCH, touch.last_used_at, touch.expires_at, touch.session_id)

        await self._db.run(work)

    async def revoke(
        self, session_id: str, now: datetime, reason: str, told: AuditEvent | None = None
    ) -> bool:
        return await self._db.run(
            lambda tx: _revoke_one(tx, session_id, now, reason, told, self._signals)
        )

    async def revoke_all(
        self,
        user_id: int,
        now: datetime,
        reason: str,
        keep: str | None = None,
        told: AuditEvent | None = None,
    ) -> list[str]:
        async def work(tx: Tx) -> list[str]:
            rows = await tx.fetchall(
                "UPDATE sessions SET revoked_at = $1, revoked_reason = $2"
                " WHERE user_id = $3 AND revoked_at IS NULL AND id <> $4 RETURNING id",
                now,
                reason,
                user_id,
                keep or "",
            )
            revoked = sorted(row["id"] for row in rows)
            for session_id in revoked:
                await _revoked_event(tx, session_id, user_id, now, reason, told, self._signals)
            return revoked

        return await self._db.run(work)

    async def list_live(self, user_id: int, now: datetime) -> list[Session]:
        # A listing (GET /auth/sessions, the admin's view): a replica may serve it.
        async with self._db.transaction(write=False, replica=True) as tx:
            rows = await tx.fetchall(
                f"SELECT {_COLUMNS} FROM sessions WHERE user_id = $1 AND revoked_at IS NULL"
                " AND expires_at > $2 ORDER BY created_at DESC, id",
                user_id,
                now,
            )
        return [_session(row) for row in rows]

    async def revoke_many(
        self,
        session_ids: Sequence[str],
        now: datetime,
        reason: str,
        told: AuditEvent | None = None,
    ) -> list[str]:
        async def work(tx: Tx) -> list[str]:
            # In session-id order, as every batch writer here: two never lock crosswise.
            return [
                s
                for s in sorted(session_ids)
                if await _revoke_one(tx, s, now, reason, told, self._signals)
            ]

        return await self._db.run(work)

    async def revoked_since(self, since: datetime) -> list[Session]:
        async with self._db.transaction(write=False) as tx:
            rows = await tx.fetchall(
                f"SELECT {_COLUMNS} FROM sessions WHERE revoked_at > $1 ORDER BY revoked_at, id",
                since,
            )
        return [_session(row) for row in rows]

    async def live_page(
        self, now: datetime, created_before: datetime, after: str = "", limit: int = 500
    ) -> list[Session]:
        async with self._db.transaction(write=False) as tx:
            rows = await tx.fetchall(
                f"SELECT {_COLUMNS} FROM sessions WHERE id > $1 AND revoked_at IS NULL"
                " AND expires_at > $2 AND created_at < $3 ORDER BY id LIMIT $4",
                after,
                now,
                created_before,
                limit,
            )
        return [_session(row) for row in rows]

    async def delete_ended(
        self, started_before: datetime, ended_before: datetime, limit: int
    ) -> int:
        # Oldest first, along the sessions_created index (migration 0007).
        return await self._db.run(
            lambda tx: tx.execute(
                "DELETE FROM sessions WHERE id IN (SELECT id FROM sessions"
                " WHERE created_at < $1 AND expires_at < $2"
                " AND (revoked_at IS NULL OR revoked_at < $2)"
                f" ORDER BY created_at LIMIT $3{self._skip_locked})",
                started_before,
                ended_before,
                limit,
            )
        )


class SqlSessionIdsOfUser(SessionIdsOfUser):
    """A user's sessions for a grant store with no per-user index (Valkey): every row of the
    user, revoked or not. Housekeeping keeps only rows whose session may still live (and a
    day), so that is about one lifetime of them. A window by the current lifetime would miss
    a session started under a longer one before the setting was lowered: its grant keeps the
    absolute expiry it was given, and "sign out everywhere" would leave it alive."""

    def __init__(self, database: Database) -> None:
        self._db = database

    async def session_ids_of(self, user_id: int) -> list[str]:
        async with self._db.transaction(write=False) as tx:
            rows = await tx.fetchall(
                "SELECT id FROM sessions WHERE user_id = $1 ORDER BY id", user_id
            )
        return [str(row["id"]) for row in rows]


async def _revoke_one(
    tx: Tx, session_id: str, now: datetime, reason: str, told: AuditEvent | None, signals: bool
) -> bool:
    row = await tx.fetchone(
        "UPDATE sessions SET revoked_at = $1, revoked_reason = $2"
        " WHERE id = $3 AND revoked_at IS NULL RETURNING user_id",
        now,
        reason,
        session_id,
    )
    if row is None:
        return False
    await _revoked_event(tx, session_id, int(row["user_id"]), now, reason, told, signals)
    return True


async def _revoked_event(
    tx: Tx,
    session_id: str,
    user_id: int,
    now: datetime,
    reason: str,
    told: AuditEvent | None,
    signals: bool,
) -> None:
    """The end announced in the transaction that ends the row: to the apps (a webhook), to
    the account's activity, and to the resource servers (a CAEP session-revoked event they
    poll for), when there are any."""
    await record_event(
        tx,
        WebhookEvent.SESSION_REVOKED,
        user_id,
        now,
        told=None if told is None else replace(told, session_id=session_id),
        session_id=session_id,
        reason=reason,
    )
    if signals:
        await record_session_revoked(tx, session_id, now, reason)
