"""The one sender loop beside the requests: each round, every outbox (mail, webhooks)
delivers what is due, side by side, so a slow receiver of one never starves the other for
longer than its own timeout."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Sequence
from typing import Protocol

from application.pacing import stopped
from domain.errors import StorageUnavailable, cause_of

log = logging.getLogger("authgate.outbox")


class OutboxRound(Protocol):
    async def deliver_due(self) -> int:
        """Claim what is due and settle it; how many were claimed."""
        ...


class OutboxLoop:
    def __init__(self, rounds: Sequence[OutboxRound], *, poll_interval: float, batch: int) -> None:
        self._rounds = rounds
        self._poll_interval = poll_interval
        self._batch = batch

    async def run(self, stop: asyncio.Event) -> None:
        """Deliver until ``stop`` is set (the app's lifespan does that at shutdown)."""
        unreachable = False
        while not stop.is_set():
            try:
                claimed = await asyncio.gather(*(r.deliver_due() for r in self._rounds))
            except StorageUnavailable as e:
                # Once per outage, not once a poll: the outage log reports the database.
                if not unreachable:
                    log.warning("outbox unreachable: %s", cause_of(e))
                unreachable, claimed = True, []
            else:
                if unreachable:
                    log.info("outbox reachable again")
                unreachable = False
            if max(claimed, default=0) < self._batch:
                await stopped(stop, self._poll_interval)
