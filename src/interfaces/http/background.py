"""The loops that run beside the requests (``Service.loops``: the grant store's recovery,
the outbox sender, housekeeping, the session touches), started and stopped by the HTTP
lifespan alone: a CLI command opens the same service and starts none of them."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from domain.errors import StorageUnavailable, cause_of
from interfaces.bootstrap import Loop, Service

log = logging.getLogger("authgate")
STOP_GRACE_SECONDS = 5.0


@asynccontextmanager
async def running_beside(service: Service) -> AsyncIterator[None]:
    """The grant store is looked at once before the first request (a new or lost store is
    sealed before anything is served from it); then every loop runs until the lifespan
    ends, when ``stop`` is set and the work in hand may finish within a grace, or is
    cancelled (each loop says why that is safe)."""
    try:
        await service.cases.recover_grants.execute()
    except StorageUnavailable as e:
        log.warning("grant store unreachable at start: %s", cause_of(e))
    stop = asyncio.Event()
    tasks = [asyncio.create_task(_until(loop, stop), name=loop.name) for loop in service.loops]
    try:
        yield
    finally:
        stop.set()
        _, late = await asyncio.wait(tasks, timeout=STOP_GRACE_SECONDS)
        for task in late:
            task.cancel()
        ends = await asyncio.gather(*tasks, return_exceptions=True)
        for task, ended in zip(tasks, ends, strict=True):
            if isinstance(ended, Exception):  # each loop logs its own; this one escaped it
                log.error("%s stopped by %r", task.get_name(), ended)


async def _until(loop: Loop, stop: asyncio.Event) -> None:
    await loop.run(stop)
