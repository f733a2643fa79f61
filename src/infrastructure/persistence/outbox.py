"""The sender's side of the outbox: claim due mails under a lease, then settle each one.

PostgreSQL claims with ``FOR UPDATE SKIP LOCKED``, so concurrent senders take disjoint rows
without waiting on each other; SQLite's ``BEGIN IMMEDIATE`` serialises the claims.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from domain.ports import OutboxDelivery, OutgoingMail, QueuedMail
from infrastructure.persistence.database import Database, Row, as_datetime, skip_locked

_PENDING = "sent_at IS NULL AND failed_at IS NULL"
_ERROR_MAX = 500


def _queued(row: Row) -> QueuedMail:
    return QueuedMail(
        id=int(row["id"]),
        mail=OutgoingMail(
            recipient=row["recipient"], subject=row["subject"], text=row["text"], html=row["html"]
        ),
        created_at=as_datetime(row["created_at"]),
        attempts=int(row["attempts"]),
    )


class SqlOutboxDelivery(OutboxDelivery):
    def __init__(self, database: Database) -> None:
        self._db = database
        self._skip_locked = skip_locked(database)

    async def claim(self, now: datetime, lease: timedelta, limit: int) -> list[QueuedMail]:
        async with self._db.transaction() as tx:
            rows = await tx.fetchall(
                "UPDATE outbox SET claimed_until = $2, attempts = attempts + 1 WHERE id IN ("
                f" SELECT id FROM outbox WHERE {_PENDING} AND due_at <= $1"
                " AND (claimed_until IS NULL OR claimed_until <= $1)"
                f" ORDER BY due_at, id LIMIT $3{self._skip_locked})"
                " RETURNING id, recipient, subject, text, html, created_at, attempts",
                now,
                now + lease,
                limit,
            )
        return sorted((_queued(row) for row in rows), key=lambda queued: queued.id)

    async def sent(self, mail_id: int, now: datetime) -> None:
        # The body carries a live token: once delivered it is erased, so a token exists at
        # rest only while its mail waits (OWASP Forgot Password Cheat Sheet: store tokens
        # securely; the token table itself holds SHA-256 digests only).
        await self._settle("sent_at = $2, text = '', html = ''", mail_id, now)

    async def retry(self, mail_id: int, due_at: datetime, error: str) -> None:
        await self._settle("due_at = $2, last_error = $3", mail_id, due_at, error[:_ERROR_MAX])

    async def backlog(self, now: datetime) -> tuple[int, float | None]:
        async with self._db.transaction(write=False) as tx:
            row = await tx.fetchone(
                f"SELECT COUNT(*) AS depth, MIN(created_at) AS oldest FROM outbox WHERE {_PENDING}"
            )
        assert row is not None
        if row["oldest"] is None:
            return int(row["depth"]), None
        return int(row["depth"]), (now - as_datetime(row["oldest"])).total_seconds()

    async def give_up(self, mail_id: int, now: datetime, error: str) -> None:
        await self._settle(
            "failed_at = $2, last_error = $3, text = '', html = ''",
            mail_id,
            now,
            error[:_ERROR_MAX],
        )

    async def delete_settled(self, before: datetime, limit: int) -> int:
        return await self._db.run(
            lambda tx: tx.execute(
                "DELETE FROM outbox WHERE id IN (SELECT id FROM outbox"
                f" WHERE sent_at < $1 OR failed_at < $1 ORDER BY id LIMIT $2{self._skip_locked})",
                before,
                limit,
            )
        )

    async def _settle(self, assignments: str, mail_id: int, *args: object) -> None:
        async with self._db.transaction() as tx:
            await tx.execute(
                f"UPDATE outbox SET claimed_until = NULL, {assignments} WHERE id = $1",
                mail_id,
                *args,
            )
