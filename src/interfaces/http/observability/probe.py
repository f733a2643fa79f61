"""Asking a backend whether it answers, bounded in time whatever the backend does."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable

from domain.errors import StorageUnavailable


async def answers(check: Callable[[], Awaitable[None]], within: float) -> bool:
    """True if the check succeeds within ``within`` seconds.

    A late check is cancelled but not waited for: a driver may spend seconds winding down
    after a cancel (asyncpg rolls back and resets the connection on a peer that no longer
    answers), and the caller must have its answer when the time is up.
    """
    task = asyncio.ensure_future(check())
    try:
        done, _ = await asyncio.wait({task}, timeout=within)
    finally:
        if not task.done():
            task.cancel()
            task.add_done_callback(_forget)
    if not done:
        return False
    error = task.exception()
    if isinstance(error, StorageUnavailable | TimeoutError):
        return False
    if error is not None:
        raise error
    return True


def _forget(task: asyncio.Future[None]) -> None:
    with contextlib.suppress(asyncio.CancelledError, Exception):
        task.exception()
