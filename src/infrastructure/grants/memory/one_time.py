"""One-time values in process memory (OAuth attempts): taken once, or expired."""

from __future__ import annotations

from datetime import datetime


class MemoryOneTimeStore:
    def __init__(self) -> None:
        self._values: dict[str, tuple[bytes, datetime]] = {}

    async def put(self, key: str, value: bytes, expires_at: datetime) -> None:
        self._values[key] = (value, expires_at)

    async def take(self, key: str, now: datetime) -> bytes | None:
        entry = self._values.pop(key, None)
        if entry is None or entry[1] <= now:
            return None
        return entry[0]
