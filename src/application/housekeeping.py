"""Housekeeping: rows that can never matter again are deleted, so the SQL database holds
what live sessions and pending mail need, not everything ever started.

What goes, ``SLACK`` (a day: clocks of processes differ, session expiries are written
behind) after it stopped mattering:

- A session started more than the absolute lifetime (AUTH_SESSION_MAX_AGE) ago, once
  it also ended (expired, and revoked if revoked at all) before the slack. Its grant's
  absolute expiry was fixed at its start, so it can never refresh again; ``GET
  /auth/sessions`` lists only unrevoked, unexpired sessions; a grant store without a
  per-user index (Valkey) asks for the sessions started within the lifetime plus an hour
  (``SqlSessionIdsOfUser``); the repair after a lost grant store re-denies those revoked
  within the access-token lifetime (at most a day, and the slack is never shorter). Ended
  too: a session started under a longer lifetime (the setting lowered since) stays until
  its own recorded expiry has passed.
- A token family of the SQL grant store expired before the slack: presented now it would
  answer "invalid" and be dropped anyway (``domain.rotation``). Valkey expires its own.
- A mail token expired before the slack: it redeems nothing any more.
- An outbox mail delivered or given up more than ``MAIL_KEPT`` ago. Its body was erased
  when it was settled; the row is kept that long so an operator can still tell whether,
  when and why not a mail went out.
- A webhook delivery delivered or given up more than ``WEBHOOKS_KEPT`` ago: its payload
  names a user (GDPR Art. 5(1)(e)); the admin's list of an endpoint's deliveries is for
  what went wrong lately.
- A security activity entry older than AUTH_ACTIVITY_RETENTION_DAYS (no slack: the
  retention is a promise to the user, GDPR Art. 5(1)(e) storage limitation).

Already swept where they are written, so not here: rate-limit hits (on each hit), one-time
values (on each take), the SQL denylist (on sign-ins).

Each kind goes in batches of ``BATCH`` rows, one short transaction each, so the other
writers get in between; a round stops after ``MAX_BATCHES`` of a kind and the next round
goes on. Every process runs its own rounds: the deletes are idempotent, and concurrent
ones skip each other's rows (PostgreSQL) or take turns (SQLite).
"""

from __future__ import annotations

import asyncio
import logging
import random
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from application.pacing import stopped
from application.session_policy import SessionPolicy
from application.signals import PurgeSecurityEvents
from domain.errors import StorageUnavailable
from domain.ports import (
    Clock,
    ExpiredGrants,
    MailUnitOfWork,
    OutboxDelivery,
    SecurityActivity,
    SessionRepository,
    WebhookOutbox,
)

log = logging.getLogger("authgate")

SLACK = timedelta(days=1)
MAIL_KEPT = timedelta(days=7)
WEBHOOKS_KEPT = timedelta(days=30)
BATCH = 1_000
MAX_BATCHES = 100
EVERY = 600.0  # seconds between rounds in one process, give or take ``JITTER``
JITTER = 0.2  # processes started together spread their rounds apart


@dataclass(frozen=True, slots=True, kw_only=True)
class Purged:
    sessions: int
    grants: int
    mail_tokens: int
    mails: int
    security_events: int = 0
    signal_streams: int = 0
    webhook_deliveries: int = 0
    activity: int = 0

    @property
    def total(self) -> int:
        kinds = (self.sessions, self.grants, self.mail_tokens, self.mails)
        more = (self.security_events, self.signal_streams, self.webhook_deliveries)
        return sum(kinds) + sum(more) + self.activity


class PurgeExpired:
    def __init__(
        self,
        *,
        sessions: SessionRepository,
        grants: ExpiredGrants | None,  # None: the store expires its own (Valkey, memory)
        mail: MailUnitOfWork,
        outbox: OutboxDelivery,
        webhooks: WebhookOutbox,
        signals: PurgeSecurityEvents,
        activity: SecurityActivity,
        activity_retention: timedelta,
        policy: SessionPolicy,
        clock: Clock,
        batch: int = BATCH,
        max_batches: int = MAX_BATCHES,
    ) -> None:
        self._sessions = sessions
        self._grants = grants
        self._mail = mail
        self._outbox = outbox
        self._webhooks = webhooks
        self._signals = signals
        self._activity = activity
        self._activity_retention = activity_retention
        self._policy = policy
        self._clock = clock
        self._batch = batch
        self._max_batches = max_batches

    async def execute(self) -> Purged:
        """One round: each kind until none is left or ``max_batches`` went."""
        now = self._clock.now()
        started_before = now - self._policy.max_age - SLACK
        ended_before = now - max(SLACK, self._policy.access_ttl)
        grants = self._grants
        return Purged(
            sessions=await self._drain(
                lambda n: self._sessions.delete_ended(started_before, ended_before, n)
            ),
            grants=0
            if grants is None
            else await self._drain(lambda n: grants.delete_expired(now - SLACK, n)),
            mail_tokens=await self._drain(lambda n: self._delete_tokens(now - SLACK, n)),
            mails=await self._drain(lambda n: self._outbox.delete_settled(now - MAIL_KEPT, n)),
            security_events=await self._drain(self._signals.execute),
            signal_streams=await self._drain(self._signals.idle_streams),
            webhook_deliveries=await self._drain(
                lambda n: self._webhooks.delete_settled(now - WEBHOOKS_KEPT, n)
            ),
            activity=await self._drain(
                lambda n: self._activity.delete_older(now - self._activity_retention, n)
            ),
        )

    async def run(self, stop: asyncio.Event, every: float = EVERY) -> None:
        """A round every ``every`` seconds, the first one after a wait too, until ``stop``
        is set. A round that fails is logged and tried again at the next one."""
        while not await stopped(stop, every * random.uniform(1 - JITTER, 1 + JITTER)):
            try:
                purged = await self.execute()
            except StorageUnavailable:
                continue  # the outage is reported where requests meet it; next round
            except Exception:
                log.warning("housekeeping round failed, tried again next round", exc_info=True)
                continue
            if purged.total:
                log.info(
                    "housekeeping deleted %d sessions, %d token families, %d mail tokens,"
                    " %d mails, %d webhook deliveries, %d activity entries",
                    purged.sessions,
                    purged.grants,
                    purged.mail_tokens,
                    purged.mails,
                    purged.webhook_deliveries,
                    purged.activity,
                )

    async def _delete_tokens(self, before: datetime, limit: int) -> int:
        async with self._mail.begin() as work:
            return await work.tokens.delete_expired(before, limit)

    async def _drain(self, delete: Callable[[int], Awaitable[int]]) -> int:
        total = 0
        for _ in range(self._max_batches):
            deleted = await delete(self._batch)
            total += deleted
            if deleted < self._batch:
                break
        return total
