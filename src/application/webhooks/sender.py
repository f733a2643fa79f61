"""Delivers the webhook outbox: claims due deliveries under a lease and posts them, the
claimed batch at once (one user's events never share a batch, so order holds), so a
receiver that hangs holds up its own delivery for the transport's timeout and nothing else.

2xx is delivered; 410 Gone disables the endpoint (Standard Webhooks: the receiver asks to be
forgotten); anything else is retried with exponential backoff and "equal jitter" (AWS
Architecture Blog, "Exponential Backoff And Jitter") until the event is ``give_up_after``
old (3 days).
"""

from __future__ import annotations

import asyncio
import logging
import random
from dataclasses import dataclass
from datetime import timedelta

from application.webhooks.signing import headers
from domain.ports import (
    AuditEvent,
    AuditLog,
    ClaimedWebhook,
    Clock,
    WebhookOutbox,
    WebhookTransport,
    WebhookUnreachable,
)

log = logging.getLogger("authgate.webhooks")

GONE = 410


@dataclass(frozen=True, slots=True, kw_only=True)
class WebhookPolicy:
    allow_http: bool = False  # AUTH_WEBHOOK_ALLOW_HTTP: http:// to loopback may be configured
    give_up_after: timedelta = timedelta(days=3)
    lease: timedelta = timedelta(minutes=2)  # far longer than a batch's 10 s timeout
    batch: int = 20
    first_retry: timedelta = timedelta(seconds=5)
    max_retry: timedelta = timedelta(hours=1)

    def backoff(self, attempts: int) -> timedelta:
        """Up to 5 s, 10 s, 20 s, … capped at an hour, the wait drawn from its upper half."""
        ceiling = min(self.first_retry * (1 << max(0, min(attempts - 1, 20))), self.max_retry)
        return ceiling * random.uniform(0.5, 1.0)


class WebhookSender:
    def __init__(
        self,
        *,
        outbox: WebhookOutbox,
        transport: WebhookTransport,
        policy: WebhookPolicy,
        clock: Clock,
        audit: AuditLog,
    ) -> None:
        self._outbox = outbox
        self._transport = transport
        self._policy = policy
        self._clock = clock
        self._audit = audit

    async def deliver_due(self) -> int:
        """One round: claim what is due and settle it; how many deliveries were claimed."""
        claimed = await self._outbox.claim(
            self._clock.now(), self._policy.lease, self._policy.batch
        )
        await asyncio.gather(*(self._deliver(webhook) for webhook in claimed))
        return len(claimed)

    async def _deliver(self, webhook: ClaimedWebhook) -> None:
        delivery, endpoint = webhook.delivery, webhook.endpoint
        now = self._clock.now()
        try:
            body = delivery.payload.encode()
            signed = headers(
                endpoint.signing_secrets(now), delivery.message_id, int(now.timestamp()), body
            )
            status = await self._transport.post(endpoint.url, signed, body)
        except WebhookUnreachable as failure:
            await self._failed(webhook, failure.reason, None)
            return
        except Exception as e:
            # Whatever the transport did not foresee fails this delivery, never the loop
            # that sends every other (and the mail): retried, then given up as any failure.
            log.exception("webhook delivery %d: unexpected failure", delivery.id)
            await self._failed(webhook, f"unexpected {type(e).__name__}", None)
            return
        if 200 <= status < 300:
            await self._outbox.delivered(delivery.id, self._clock.now(), status)
        elif status == GONE:
            log.warning("webhook endpoint %d answered 410: disabled", endpoint.id)
            await self._outbox.disable_endpoint(endpoint.id, self._clock.now())
            await self._outbox.give_up(delivery.id, self._clock.now(), "HTTP 410", status)
            self._audit.record(AuditEvent(event="webhook_endpoint_disabled", reason="http_410"))
        else:
            await self._failed(webhook, f"HTTP {status}", status)

    async def _failed(self, webhook: ClaimedWebhook, error: str, status: int | None) -> None:
        delivery, now = webhook.delivery, self._clock.now()
        if now - delivery.created_at < self._policy.give_up_after:
            retry_at = now + self._policy.backoff(delivery.attempts)
            log.info("webhook %d not delivered (%s); retry at %s", delivery.id, error, retry_at)
            await self._outbox.retry(delivery.id, retry_at, error, status)
            return
        log.error(
            "webhook %d given up after %d attempts: %s", delivery.id, delivery.attempts, error
        )
        await self._outbox.give_up(delivery.id, now, error, status)
        self._audit.record(AuditEvent(event="webhook_given_up", reason=error[:200]))
