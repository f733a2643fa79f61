"""Housekeeping (``application.housekeeping``) in the app's lifespan, in every process."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from application.housekeeping import EVERY, PurgeExpired

STOP_GRACE_SECONDS = 5.0


@asynccontextmanager
async def purging(purge: PurgeExpired, every: float = EVERY) -> AsyncIterator[None]:
    """Rounds in the background; at shutdown a round in hand may finish (or is cancelled
    after a grace: each batch is a transaction of its own, the one cut short rolls back)."""
    stop = asyncio.Event()
    task = asyncio.create_task(purge.run(stop, every), name="authgate-housekeeping")
    try:
        yield
    finally:
        stop.set()
        try:
            await asyncio.wait_for(asyncio.shield(task), STOP_GRACE_SECONDS)
        except TimeoutError:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
