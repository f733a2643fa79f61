"""Waiting in the loops that run beside the requests (outbox sender, grant recovery,
housekeeping): a pause that ends early when the app stops."""

from __future__ import annotations

import asyncio
import contextlib


async def stopped(stop: asyncio.Event, wait: float) -> bool:
    """Wait up to ``wait`` seconds for ``stop``; whether it was set."""
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(stop.wait(), wait)
    return stop.is_set()
