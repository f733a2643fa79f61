"""Loops that run beside the requests for as long as the app's lifespan (the outbox sender,
the grant store's recovery, housekeeping), started and stopped one way."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager

STOP_GRACE_SECONDS = 5.0


@asynccontextmanager
async def in_background(
    run: Callable[[asyncio.Event], Awaitable[None]], name: str
) -> AsyncIterator[asyncio.Task[None]]:
    """``run(stop)`` as a task until the lifespan ends; then ``stop`` is set, and the work in
    hand may finish within a grace, or is cancelled (each loop says why that is safe)."""
    stop = asyncio.Event()

    async def loop() -> None:
        await run(stop)

    task = asyncio.create_task(loop(), name=name)
    try:
        yield task
    finally:
        stop.set()
        try:
            await asyncio.wait_for(asyncio.shield(task), STOP_GRACE_SECONDS)
        except TimeoutError:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
