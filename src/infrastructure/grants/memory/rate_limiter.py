"""A sliding-window rate limiter in process memory: counts are per process."""

from __future__ import annotations

import asyncio
from collections import deque
from datetime import datetime, timedelta


class MemoryRateLimiter:
    def __init__(self) -> None:
        self._hits: dict[str, deque[datetime]] = {}
        self._lock = asyncio.Lock()

    async def hit(self, key: str, limit: int, window: timedelta, now: datetime) -> int | None:
        async with self._lock:
            hits = self._hits.setdefault(key, deque())
            while hits and hits[0] <= now - window:
                hits.popleft()
            if len(hits) >= limit:
                return max(1, int((hits[0] + window - now).total_seconds() + 0.999))
            hits.append(now)
            return None

    async def reset(self, key: str) -> None:
        async with self._lock:
            self._hits.pop(key, None)

    async def reset_prefix(self, prefix: str) -> None:
        async with self._lock:
            for key in [k for k in self._hits if k.startswith(prefix)]:
                del self._hits[key]
