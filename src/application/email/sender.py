"""Delivers the outbox: claims due mails under a lease, sends each, settles each.

A temporary failure (server down, 4xx) is retried with exponential backoff until the mail
is older than ``give_up_after``; a permanent one (5xx) is given up at once. Either way the
give-up is an audit event. A sender that dies mid-batch loses nothing: its claims lapse and
another sender (or itself, restarted) takes the mails again.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import timedelta

from domain.ports import (
    AuditEvent,
    AuditLog,
    Clock,
    MailDeliveryFailed,
    Mailer,
    OutboxDelivery,
    QueuedMail,
)

log = logging.getLogger("authgate.mail")


@dataclass(frozen=True, slots=True, kw_only=True)
class DeliveryPolicy:
    give_up_after: timedelta  # AUTH_OUTBOX_GIVE_UP_AFTER
    poll_interval: float = 1.0  # seconds between looks at empty outboxes (mail, webhooks)
    lease: timedelta = timedelta(minutes=5)  # far longer than a batch of SMTP timeouts
    batch: int = 20
    first_retry: timedelta = timedelta(seconds=30)
    max_retry: timedelta = timedelta(hours=1)

    def backoff(self, attempts: int) -> timedelta:
        """30 s, 1 min, 2 min, … up to an hour: the n-th failure waits 2^(n-1) first steps."""
        return min(self.first_retry * (1 << max(0, min(attempts - 1, 20))), self.max_retry)


class OutboxSender:
    def __init__(
        self,
        *,
        outbox: OutboxDelivery,
        mailer: Mailer,
        policy: DeliveryPolicy,
        clock: Clock,
        audit: AuditLog,
    ) -> None:
        self._outbox = outbox
        self._mailer = mailer
        self._policy = policy
        self._clock = clock
        self._audit = audit

    async def deliver_due(self) -> int:
        """One round: claim what is due and settle it; how many mails were claimed."""
        claimed = await self._outbox.claim(
            self._clock.now(), self._policy.lease, self._policy.batch
        )
        for queued in claimed:
            await self._deliver(queued)
        return len(claimed)

    async def _deliver(self, queued: QueuedMail) -> None:
        try:
            await self._mailer.send(queued.mail)
        except MailDeliveryFailed as failure:
            await self._failed(queued, failure)
            return
        except Exception as e:
            # Whatever no mailer foresaw fails this mail, never the loop that sends every
            # other: retried with backoff, then given up as any failure is.
            log.exception("mail %d: unexpected failure", queued.id)
            unexpected = MailDeliveryFailed(f"unexpected {type(e).__name__}", temporary=True)
            await self._failed(queued, unexpected)
            return
        await self._outbox.sent(queued.id, self._clock.now())

    async def _failed(self, queued: QueuedMail, failure: MailDeliveryFailed) -> None:
        now = self._clock.now()
        if failure.temporary and now - queued.created_at < self._policy.give_up_after:
            retry_at = now + self._policy.backoff(queued.attempts)
            log.warning("mail %d not delivered (%s); retry at %s", queued.id, failure, retry_at)
            await self._outbox.retry(queued.id, retry_at, failure.reason)
            return
        log.error("mail %d given up after %d attempts: %s", queued.id, queued.attempts, failure)
        await self._outbox.give_up(queued.id, now, failure.reason)
        self._audit.record(AuditEvent(event="mail_given_up", reason=failure.reason[:200]))
