"""One-time values in Valkey: ``once:<key>`` → ``b"<expires_at µs>:<value>"``."""

from __future__ import annotations

from datetime import datetime
from typing import cast

from infrastructure.grants.valkey.client import ValkeyClient, gc_ttl_ms, micros, storage_errors
from infrastructure.grants.valkey.urls import DEFAULT_PREFIX


class ValkeyOneTimeStore:
    def __init__(self, client: ValkeyClient, prefix: str = DEFAULT_PREFIX) -> None:
        self._client = client
        self._prefix = prefix

    async def put(self, key: str, value: bytes, expires_at: datetime) -> None:
        record = b"%d:%b" % (micros(expires_at), value)
        with storage_errors():
            await self._client.set(f"{self._prefix}once:{key}", record, px=gc_ttl_ms(expires_at))

    async def take(self, key: str, now: datetime) -> bytes | None:
        with storage_errors():  # GETDEL: one atomic step, so a value is handed out once
            record = cast(bytes | None, await self._client.getdel(f"{self._prefix}once:{key}"))
        if record is None:
            return None
        expires_at, _, value = record.partition(b":")
        return value if int(expires_at) > micros(now) else None
