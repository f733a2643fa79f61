"""A sliding-window rate limiter in process memory: counts are per process."""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import Sequence
from datetime import datetime, timedelta

from domain.ports import RateLimit


class MemoryRateLimiter:
    def __init__(self) -> None:
        self._hits: dict[str, deque[datetime]] = {}
        self._lock = asyncio.Lock()

    async def hit(self, key: str, limit: int, window: timedelta, now: datetime) -> int | None:
        async with self._lock:
            return self._hit(key, limit, window, now)

    async def hit_all(self, hits: Sequence[RateLimit], now: datetime) -> tuple[str, int] | None:
        async with self._lock:
            for hit in hits:
                if (wait := self._hit(hit.key, hit.limit, hit.window, now)) is not None:
                    return hit.key, wait
            return None

    def _hit(self, key: str, limit: int, window: timedelta, now: datetime) -> int | None:
        hits = self._hits.setdefault(key, deque())
        while hits and hits[0] <= now - window:
            hits.popleft()
        if len(hits) >= limit:
            return max(1, int((hits[0] + window - now).total_seconds() + 0.999))
        hits.append(now)
        return None

    async def reset(self, key: str) -> None:
        await self.reset_all([key])

    async def reset_all(self, keys: Sequence[str]) -> None:
        async with self._lock:
            for key in keys:
                self._hits.pop(key, None)

    async def reset_prefix(self, prefix: str) -> None:
        async with self._lock:
            for key in [k for k in self._hits if k.startswith(prefix)]:
                del self._hits[key]
