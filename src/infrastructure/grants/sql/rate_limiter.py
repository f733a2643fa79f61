"""The sliding-window rate limiter in the service's SQL database."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta

from domain.ports import RateLimit, RateLimiter
from infrastructure.persistence.database import Database, Tx, as_datetime


class SqlRateLimiter(RateLimiter):
    """Sliding window over timestamped hits; one transaction per attempt, so the count holds
    across every worker process that shares the database."""

    def __init__(self, database: Database) -> None:
        self._db = database

    async def hit(self, key: str, limit: int, window: timedelta, now: datetime) -> int | None:
        return await self._db.run(lambda tx: self.hit_in(tx, key, limit, window, now))

    async def hit_all(self, hits: Sequence[RateLimit], now: datetime) -> tuple[str, int] | None:
        async def work(tx: Tx) -> tuple[str, int] | None:
            for i, hit in enumerate(hits):
                wait = await self.hit_in(tx, hit.key, hit.limit, hit.window, now, sweep=i == 0)
                if wait is not None:
                    return hit.key, wait
            return None

        return await self._db.run(work)

    async def hit_in(
        self, tx: Tx, key: str, limit: int, window: timedelta, now: datetime, *, sweep: bool = True
    ) -> int | None:
        """``hit`` inside the caller's transaction (the refresh rotation's)."""
        await self._db.lock_key(tx, f"rate:{key}")
        if sweep:  # each hit expires with its window; expired ones of any key go here too
            await tx.execute("DELETE FROM rate_limit_hits WHERE expires_at <= $1", now)
        row = await tx.fetchone(
            "SELECT COUNT(*) AS hits, MIN(at) AS oldest FROM rate_limit_hits WHERE key = $1",
            key,
        )
        assert row is not None
        if int(row["hits"]) >= limit:
            wait = as_datetime(row["oldest"]) + window - now
            return max(1, int(wait.total_seconds() + 0.999))
        await tx.execute(
            "INSERT INTO rate_limit_hits (key, at, expires_at) VALUES ($1, $2, $3)",
            key,
            now,
            now + window,
        )
        return None

    async def reset(self, key: str) -> None:
        await self.reset_all([key])

    async def reset_all(self, keys: Sequence[str]) -> None:
        if not keys:
            return
        listed = ", ".join(f"${n}" for n in range(1, len(keys) + 1))

        async def work(tx: Tx) -> None:
            # One statement for every key (a sign-in's success clears three to six).
            await tx.execute(f"DELETE FROM rate_limit_hits WHERE key IN ({listed})", *keys)

        await self._db.run(work)

    async def reset_prefix(self, prefix: str) -> None:
        async with self._db.transaction() as tx:
            await tx.execute(
                "DELETE FROM rate_limit_hits WHERE substr(key, 1, $2) = $1", prefix, len(prefix)
            )
