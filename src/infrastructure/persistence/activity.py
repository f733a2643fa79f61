"""The account's security activity and its mail history, in SQL."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from domain.ports import Activity, MailHistory, NewActivity, SecurityActivity, SentMail
from infrastructure.persistence.account_events import add_activity
from infrastructure.persistence.database import (
    Database,
    Row,
    as_datetime,
    as_optional_datetime,
    skip_locked,
)


def _activity(row: Row) -> Activity:
    return Activity(
        id=int(row["id"]),
        user_id=int(row["user_id"]),
        type=row["type"],
        at=as_datetime(row["at"]),
        ip_address=row["ip_address"],
        user_agent=row["user_agent"],
        session_id=row["session_id"],
        method=row["method"],
        reason=row["reason"],
        actor=row["actor"],
    )


class SqlSecurityActivity(SecurityActivity):
    def __init__(self, database: Database) -> None:
        self._db = database
        self._skip_locked = skip_locked(database)

    async def add(self, entries: Sequence[NewActivity]) -> None:
        if not entries:
            return
        async with self._db.transaction() as tx:
            for entry in entries:
                await add_activity(tx, entry)

    async def page(self, user_id: int, *, before: int | None, limit: int) -> list[Activity]:
        sql = "SELECT * FROM security_activity WHERE user_id = $1"
        args: list[object] = [user_id, limit]
        if before is not None:
            sql += " AND id < $3"
            args.append(before)
        async with self._db.transaction(write=False) as tx:
            rows = await tx.fetchall(f"{sql} ORDER BY id DESC LIMIT $2", *args)
        return [_activity(row) for row in rows]

    async def delete_older(self, before: datetime, limit: int) -> int:
        return await self._db.run(
            lambda tx: tx.execute(
                "DELETE FROM security_activity WHERE id IN (SELECT id FROM security_activity"
                f" WHERE at < $1 ORDER BY id LIMIT $2{self._skip_locked})",
                before,
                limit,
            )
        )


class SqlMailHistory(MailHistory):
    def __init__(self, database: Database) -> None:
        self._db = database

    async def sent_to(self, user_id: int) -> list[SentMail]:
        async with self._db.transaction(write=False) as tx:
            # The account's own mails, at whatever address they went (a previous account's
            # at the same address are not the business of whoever holds it now; ids are
            # never reused).
            rows = await tx.fetchall(
                "SELECT subject, created_at, sent_at FROM outbox WHERE user_id = $1 ORDER BY id",
                user_id,
            )
        return [
            SentMail(
                subject=row["subject"],
                created_at=as_datetime(row["created_at"]),
                sent_at=as_optional_datetime(row["sent_at"]),
            )
            for row in rows
        ]
