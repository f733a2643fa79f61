"""Security events in SQL: written in the transaction that ends a session's row, read by the
receivers' streams that poll for them (RFC 8936), each stream's acknowledgements beside them."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from domain.ports import SecurityEvent, SecurityEvents, SignalStream
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

    async def open_stream(self, stream: SignalStream, most: int) -> bool:
        async def work(tx: Tx) -> bool:
            # Counted and added under the receiver's lock: two opened at once cannot both
            # take the last place.
            await self._db.lock_key(tx, f"signal-streams:{stream.receiver}")
            row = await tx.fetchone(
                "SELECT COUNT(*) AS n FROM signal_streams WHERE receiver = $1", stream.receiver
            )
            if row is not None and int(row["n"]) >= most:
                return False
            await tx.execute(
                "INSERT INTO signal_streams (id, receiver, created_at, polled_at)"
                " VALUES ($1, $2, $3, $4)",
                stream.id,
                stream.receiver,
                stream.created_at,
                stream.polled_at,
            )
            return True

        return await self._db.run(work)

    async def streams(self, receiver: str) -> list[SignalStream]:
        async with self._db.transaction(write=False) as tx:
            rows = await tx.fetchall(
                "SELECT id, receiver, created_at, polled_at FROM signal_streams"
                " WHERE receiver = $1 ORDER BY created_at, id",
                receiver,
            )
        return [
            SignalStream(
                id=str(row["id"]),
                receiver=str(row["receiver"]),
                created_at=as_datetime(row["created_at"]),
                polled_at=as_datetime(row["polled_at"]),
            )
            for row in rows
        ]

    async def close_stream(self, receiver: str, stream_id: str) -> bool:
        closed = await self._db.run(
            lambda tx: tx.execute(
                "DELETE FROM signal_streams WHERE id = $1 AND receiver = $2", stream_id, receiver
            )
        )
        return closed > 0

    async def unacknowledged(
        self, stream_id: str, since: datetime, limit: int
    ) -> list[SecurityEvent]:
        async with self._db.transaction(write=False) as tx:
            rows = await tx.fetchall(
                "SELECT e.id, e.kind, e.session_id, e.reason, e.occurred_at"
                " FROM security_events e WHERE e.occurred_at >= $1 AND NOT EXISTS"
                " (SELECT 1 FROM security_event_acks a WHERE a.stream_id = $2"
                " AND a.event_id = e.id)"
                " ORDER BY e.id LIMIT $3",
                since,
                stream_id,
                limit,
            )
        return [_event(row) for row in rows]

    async def is_open(self, stream_id: str) -> bool:
        row = await self._db.read_key(
            "SELECT 1 AS open FROM signal_streams WHERE id = $1", stream_id
        )
        return row is not None

    async def newest(self) -> int | None:
        row = await self._db.read_key("SELECT MAX(id) AS id FROM security_events")
        return None if row is None or row["id"] is None else int(row["id"])

    async def polled(
        self, receiver: str, stream_id: str, now: datetime, acknowledged: Sequence[int]
    ) -> bool:
        async def work(tx: Tx) -> bool:
            # The stream's row is changed first: on PostgreSQL its lock holds off a close
            # until the acknowledgements are in (they would name a stream gone).
            found = await tx.execute(
                "UPDATE signal_streams SET polled_at = $3 WHERE id = $1 AND receiver = $2",
                stream_id,
                receiver,
                now,
            )
            if not found:
                return False
            ids = sorted(set(acknowledged))
            for start in range(0, len(ids), _IN_LIST):
                chunk = ids[start : start + _IN_LIST]
                marks = ", ".join(f"${n}" for n in range(2, len(chunk) + 2))
                await tx.execute(
                    "INSERT INTO security_event_acks (stream_id, event_id)"
                    f" SELECT $1, id FROM security_events WHERE id IN ({marks})"
                    " ON CONFLICT DO NOTHING",
                    stream_id,
                    *chunk,
                )
            return True

        return await self._db.run(work)

    async def delete_before(self, before: datetime, limit: int) -> int:
        return await self._db.run(
            lambda tx: tx.execute(
                "DELETE FROM security_events WHERE id IN (SELECT id FROM security_events"
                f" WHERE occurred_at < $1 ORDER BY id LIMIT $2{self._skip_locked})",
                before,
                limit,
            )
        )

    async def close_idle(self, polled_before: datetime, limit: int) -> int:
        return await self._db.run(
            lambda tx: tx.execute(
                "DELETE FROM signal_streams WHERE id IN (SELECT id FROM signal_streams"
                f" WHERE polled_at < $1 ORDER BY polled_at LIMIT $2{self._skip_locked})",
                polled_before,
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
