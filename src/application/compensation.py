from __future__ import annotations

import contextlib
from collections.abc import Awaitable

from domain.errors import StorageUnavailable


async def quietly(step: Awaitable[object]) -> None:
    """Best-effort compensation: the original error is what the caller must see."""
    with contextlib.suppress(StorageUnavailable):
        await step
