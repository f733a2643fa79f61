"""Short-lived keyed records: single-use values (OAuth state) and rate-limit windows."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Protocol

from domain.ports.grants import RateLimit


class OneTimeStore(Protocol):
    async def put(self, key: str, value: bytes, expires_at: datetime) -> None: ...

    async def take(self, key: str, now: datetime) -> bytes | None:
        """Return and delete the value in one atomic step; None if missing or expired."""
        ...


class RateLimiter(Protocol):
    async def hit(self, key: str, limit: int, window: timedelta, now: datetime) -> int | None:
        """Count one attempt in a sliding window; seconds to wait when over ``limit``."""
        ...

    async def hit_all(self, hits: Sequence[RateLimit], now: datetime) -> tuple[str, int] | None:
        """``hit`` each in order, in one atomic step (one round trip where the backend
        allows), stopping at the first one over its limit: its key and the seconds to wait.
        Hits counted before that one stay counted, as with ``hit`` one after another."""
        ...

    async def reset(self, key: str) -> None:
        """Forget every attempt counted for ``key``."""
        ...

    async def reset_all(self, keys: Sequence[str]) -> None:
        """``reset`` each key, in one step."""
        ...

    async def reset_prefix(self, prefix: str) -> None:
        """Forget every attempt counted for any key that starts with ``prefix``."""
        ...
