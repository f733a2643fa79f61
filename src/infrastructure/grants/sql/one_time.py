"""One-time values (OAuth state and the like) in the service's SQL database."""

from __future__ import annotations

from datetime import datetime

from domain.ports import OneTimeStore
from infrastructure.persistence.database import Database, as_datetime


class SqlOneTimeStore(OneTimeStore):
    def __init__(self, database: Database) -> None:
        self._db = database

    async def put(self, key: str, value: bytes, expires_at: datetime) -> None:
        async with self._db.transaction() as tx:
            await tx.execute(
                "INSERT INTO one_time_values (key, value, expires_at) VALUES ($1, $2, $3)"
                " ON CONFLICT (key) DO UPDATE SET value = excluded.value,"
                " expires_at = excluded.expires_at",
                key,
                value,
                expires_at,
            )

    async def take(self, key: str, now: datetime) -> bytes | None:
        async with self._db.transaction() as tx:
            row = await tx.fetchone(
                "DELETE FROM one_time_values WHERE key = $1 RETURNING value, expires_at", key
            )
            await tx.execute("DELETE FROM one_time_values WHERE expires_at <= $1", now)
        if row is None or as_datetime(row["expires_at"]) <= now:
            return None
        return bytes(row["value"])
