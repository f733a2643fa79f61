"""The devices each account has signed in from, in SQL."""

from __future__ import annotations

from datetime import datetime

from domain.ports import DeviceSeen, KnownDevices
from infrastructure.persistence.database import Database


class SqlKnownDevices(KnownDevices):
    def __init__(self, database: Database) -> None:
        self._db = database

    async def remember(self, user_id: int, device_digest: str, now: datetime) -> DeviceSeen:
        # Most sign-ins come from a device the account knows: one keyed read, no write.
        if await self._db.read_key(
            "SELECT 1 AS found FROM known_devices WHERE user_id = $1 AND device_digest = $2",
            user_id,
            device_digest,
        ):
            return DeviceSeen.KNOWN
        async with self._db.transaction() as tx:
            # One account's devices are counted by one writer at a time, so two first
            # sign-ins from two devices cannot both find the other missing.
            await self._db.lock_key(tx, f"devices:{user_id}")
            inserted = await tx.fetchone(
                "INSERT INTO known_devices (user_id, device_digest, first_seen_at)"
                " VALUES ($1, $2, $3) ON CONFLICT (user_id, device_digest) DO NOTHING"
                " RETURNING user_id",
                user_id,
                device_digest,
                now,
            )
            if inserted is None:
                return DeviceSeen.KNOWN
            others = await tx.fetchone(
                "SELECT 1 AS found FROM known_devices WHERE user_id = $1 AND device_digest <> $2"
                " LIMIT 1",
                user_id,
                device_digest,
            )
        return DeviceSeen.NEW if others is not None else DeviceSeen.FIRST

    async def forget_since(self, user_id: int, since: datetime) -> int:
        return await self._db.run(
            lambda tx: tx.execute(
                "DELETE FROM known_devices WHERE user_id = $1 AND first_seen_at >= $2",
                user_id,
                since,
            )
        )
