"""The sender loops beside the requests: each outbox (mail, webhooks) delivers what is
due in a loop of its own, so a receiver that hangs until its timeout at every delivery
slows its own outbox only, and a failure nobody foresaw ends a round, never the loop."""

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
        unreachable: set[int] = set()  # the outboxes that found the database down
        await asyncio.gather(
            *(self._follow(n, outbox, unreachable, stop) for n, outbox in enumerate(self._rounds))
        )

    async def _follow(
        self, n: int, outbox: OutboxRound, unreachable: set[int], stop: asyncio.Event
    ) -> None:
        failing = False
        while not stop.is_set():
            claimed = 0
            try:
                claimed = await outbox.deliver_due()
            except StorageUnavailable as e:
                # Once per outage, not once a poll nor once an outbox: the outage log
                # reports the database.
                if not unreachable:
                    log.warning("outbox unreachable: %s", cause_of(e))
                unreachable.add(n)
            except Exception:
                if not failing:  # once until a round succeeds again
                    log.exception("outbox round failed; the next ones follow")
                failing = True
            else:
                if n in unreachable:
                    unreachable.discard(n)
                    if not unreachable:
                        log.info("outbox reachable again")
                failing = False
            if claimed < self._batch:
                await stopped(stop, self._poll_interval)
