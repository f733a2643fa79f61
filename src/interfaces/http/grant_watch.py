"""The grant store's recovery (``application.grant_recovery``) in the app's lifespan."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from application.grant_recovery import RecoverLostGrants
from domain.errors import StorageUnavailable, cause_of
from interfaces.http.background import in_background

log = logging.getLogger("authgate")


@asynccontextmanager
async def watching(recovery: RecoverLostGrants) -> AsyncIterator[None]:
    """One look before the first request (a new or lost store is sealed before anything
    is served from it), then one a second in the background; at shutdown a repair in hand
    finishes (or is cancelled after a grace: it is redone, it only repeats itself)."""
    try:
        await recovery.execute()
    except StorageUnavailable as e:
        log.warning("grant store unreachable at start: %s", cause_of(e))
    async with in_background(recovery.run, "authgate-grant-recovery"):
        yield
