"""The sliding-window rate limiter in Valkey: ``rate:<key>`` → sorted set of hits."""

from __future__ import annotations

import secrets
from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import cast

from valkey.asyncio.cluster import ValkeyCluster

from domain.ports import RateLimit
from infrastructure.grants.valkey import scripts
from infrastructure.grants.valkey.client import (
    GC_SLACK_MS,
    MICROSECOND,
    ValkeyClient,
    micros,
    register_script,
    storage_errors,
)
from infrastructure.grants.valkey.urls import DEFAULT_PREFIX


class ValkeyRateLimiter:
    def __init__(self, client: ValkeyClient, prefix: str = DEFAULT_PREFIX) -> None:
        self._prefix = prefix
        self._client = client
        self._hit = register_script(client, scripts.HIT)
        self._hit_all = register_script(client, scripts.HIT_ALL)
        # A cluster keeps one script's keys in one slot; one limit's keys hash apart.
        self._one_key_a_script = isinstance(client, ValkeyCluster)

    async def hit(self, key: str, limit: int, window: timedelta, now: datetime) -> int | None:
        args: list[str | int] = [micros(now), *hit_args(limit, window)]
        with storage_errors():
            wait_us = cast(int, await self._hit(keys=[f"{self._prefix}rate:{key}"], args=args))
        return wait_seconds(wait_us)

    async def hit_all(self, hits: Sequence[RateLimit], now: datetime) -> tuple[str, int] | None:
        if self._one_key_a_script:
            for hit in hits:
                if (wait := await self.hit(hit.key, hit.limit, hit.window, now)) is not None:
                    return hit.key, wait
            return None
        keys = [f"{self._prefix}rate:{hit.key}" for hit in hits]
        args: list[str | int] = [micros(now)]
        for hit in hits:
            args += hit_args(hit.limit, hit.window)
        with storage_errors():
            found, wait_us = cast(list[int], await self._hit_all(keys=keys, args=args))
        if found == 0:
            return None
        return hits[found - 1].key, wait_seconds(wait_us) or 1

    async def reset(self, key: str) -> None:
        await self.reset_all([key])

    async def reset_all(self, keys: Sequence[str]) -> None:
        with storage_errors():
            await self._client.delete(*(f"{self._prefix}rate:{key}" for key in keys))

    async def reset_prefix(self, prefix: str) -> None:
        # SCAN walks the keyspace in small steps without blocking the server; an operator's
        # unlock is rare, so its cost in O(keys) is fine.
        pattern = _glob_escape(f"{self._prefix}rate:{prefix}") + "*"
        with storage_errors():
            found = [key async for key in self._client.scan_iter(match=pattern, count=500)]
            if found:
                await self._client.delete(*found)


def _glob_escape(text: str) -> str:
    return "".join(f"\\{c}" if c in "*?[]\\" else c for c in text)


def hit_args(limit: int, window: timedelta) -> list[str | int]:
    """``hit.lua``'s arguments after ``now``: window (µs), limit, member, GC ttl (ms)."""
    window_us = window // MICROSECOND
    member = secrets.token_hex(8)  # hits at the same instant must not collapse into one
    return [window_us, limit, member, window_us // 1000 + GC_SLACK_MS]


def wait_seconds(wait_us: int) -> int | None:
    if wait_us < 0:
        return None
    return max(1, int(timedelta(microseconds=wait_us).total_seconds() + 0.999))
