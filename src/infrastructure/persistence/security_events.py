"""Security events in SQL: written in the transaction that ends a session's row, read by the
receivers that poll for them (RFC 8936), each receiver's acknowledgements kept beside them."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from domain.ports import SecurityEvent, SecurityEvents
from domain.ports.signals import SESSION_REVOKED
from infrastructure.persistence.database import Database, Row, Tx, as_datetime, skip_locked

_IN_LIST = 500


async def record_session_revoked(tx: Tx, session_id: str, now: datetime, reason: str) -> None:
    await tx.execute(
        "INSERT INTO security_events (kind, session_id, reason, occurred_at)"
        " VALUES ($1, $2, $3, $4)",
        SESSION_REVOKED,
        session_id,
        reason,
        now,
    )


class SqlSecurityEvents(SecurityEvents):
    def __init__(self, database: Database) -> None:
        self._db = database
        self._skip_locked = skip_locked(database)

    async def unacknowledged(
        self, receiver: str, since: datetime, limit: int
    ) -> list[SecurityEvent]:
        async with self._db.transaction(write=False) as tx:
            rows = await tx.fetchall(
                "SELECT e.id, e.kind, e.session_id, e.reason, e.occurred_at"
                " FROM security_events e WHERE e.occurred_at >= $1 AND NOT EXISTS"
                " (SELECT 1 FROM security_event_acks a WHERE a.receiver = $2 AND a.event_id = e.id)"
                " ORDER BY e.id LIMIT $3",
                since,
                receiver,
                limit,
            )
        return [_event(row) for row in rows]

    async def acknowledge(self, receiver: str, event_ids: Sequence[int]) -> None:
        if not event_ids:
            return

        async def work(tx: Tx) -> None:
            ids = sorted(set(event_ids))
            for start in range(0, len(ids), _IN_LIST):
                chunk = ids[start : start + _IN_LIST]
                marks = ", ".join(f"${n}" for n in range(2, len(chunk) + 2))
                await tx.execute(
                    "INSERT INTO security_event_acks (receiver, event_id)"
                    f" SELECT $1, id FROM security_events WHERE id IN ({marks})"
                    " ON CONFLICT DO NOTHING",
                    receiver,
                    *chunk,
                )

        await self._db.run(work)

    async def delete_before(self, before: datetime, limit: int) -> int:
        return await self._db.run(
            lambda tx: tx.execute(
                "DELETE FROM security_events WHERE id IN (SELECT id FROM security_events"
                f" WHERE occurred_at < $1 ORDER BY id LIMIT $2{self._skip_locked})",
                before,
                limit,
            )
        )


def _event(row: Row) -> SecurityEvent:
    return SecurityEvent(
        id=int(row["id"]),
        kind=str(row["kind"]),
        session_id=None if row["session_id"] is None else str(row["session_id"]),
        reason=None if row["reason"] is None else str(row["reason"]),
        occurred_at=as_datetime(row["occurred_at"]),
    )
