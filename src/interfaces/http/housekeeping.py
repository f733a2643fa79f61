"""Housekeeping (``application.housekeeping``) in the app's lifespan, in every process."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from application.housekeeping import EVERY, PurgeExpired
from interfaces.http.background import in_background


@asynccontextmanager
async def purging(purge: PurgeExpired, every: float = EVERY) -> AsyncIterator[None]:
    """Rounds in the background; at shutdown a round in hand may finish (or is cancelled
    after a grace: each batch is a transaction of its own, the one cut short rolls back)."""
    async with in_background(lambda stop: purge.run(stop, every), "authgate-housekeeping"):
        yield
