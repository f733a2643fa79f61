"""Port decorators that count what passes through them, so no use case knows about metrics:
sign-ins and rate limits from the audit events, refresh outcomes from the grant store's
rotation (and, for tokens refused before it, from their audit event), captcha outcomes
from the verifier, the outbox backlog at each sender poll, the range API's latency and
failures from the breach check, webhook outcomes from the webhook outbox and transport."""

from __future__ import annotations

import time
from collections.abc import Sequence
from datetime import datetime, timedelta

from domain.assurance import Assurance
from domain.entities import RefreshGrant
from domain.errors import CaptchaFailed, CaptchaUnavailable
from domain.ports import (
    AuditEvent,
    AuditLog,
    BreachCheckUnavailable,
    BreachedPasswords,
    CaptchaVerifier,
    ClaimedWebhook,
    GraceReplay,
    Invalid,
    OutboxDelivery,
    QueuedMail,
    RefreshGrantStore,
    Reused,
    Rotated,
    Rotation,
    RotationOutcome,
    Throttled,
    WebhookOutbox,
    WebhookRefused,
    WebhookTransport,
)
from infrastructure.metrics import (
    CAPTCHA,
    LOGINS,
    PWNED_RANGE_FAILURES,
    PWNED_RANGE_SECONDS,
    RATE_LIMITED,
    REFRESHES,
    WEBHOOK_DELIVERIES,
    record_outbox,
    record_webhook_queue,
)

_LOGIN_EVENTS = {"login_succeeded": "succeeded", "login_failed": "failed"}
_ROTATIONS: dict[type, str] = {
    Rotated: "rotated",
    GraceReplay: "grace",
    Reused: "reused",
    Invalid: "invalid",
    Throttled: "throttled",
}


class MeteredAuditLog(AuditLog):
    def __init__(self, inner: AuditLog) -> None:
        self._inner = inner

    def record(self, event: AuditEvent) -> None:
        self._inner.record(event)
        if event.event in _LOGIN_EVENTS:
            LOGINS.labels(outcome=_LOGIN_EVENTS[event.event]).inc()
        elif event.event == "rate_limited":
            RATE_LIMITED.labels(limit=event.reason or "unknown").inc()
        elif event.event == "refresh_token_invalid":  # refused before any store was asked
            REFRESHES.labels(outcome="invalid").inc()


class MeteredCaptcha(CaptchaVerifier):
    def __init__(self, inner: CaptchaVerifier) -> None:
        self._inner = inner

    async def verify(self, token: str | None, remote_ip: str | None) -> None:
        try:
            await self._inner.verify(token, remote_ip)
        except CaptchaFailed:
            CAPTCHA.labels(outcome="failed").inc()
            raise
        except CaptchaUnavailable:
            CAPTCHA.labels(outcome="unavailable").inc()
            raise
        CAPTCHA.labels(outcome="passed").inc()


class MeteredGrantStore(RefreshGrantStore):
    """Counts each rotation's outcome; every other call passes straight through."""

    def __init__(self, inner: RefreshGrantStore) -> None:
        self._inner = inner

    async def rotate(self, rotation: Rotation) -> RotationOutcome:
        outcome = await self._inner.rotate(rotation)
        REFRESHES.labels(outcome=_ROTATIONS[type(outcome)]).inc()
        return outcome

    async def issue(self, grant: RefreshGrant, now: datetime) -> None:
        await self._inner.issue(grant, now)

    async def revoke_session(self, session_id: str, deny_until: datetime) -> bool:
        return await self._inner.revoke_session(session_id, deny_until)

    async def revoke_user(
        self, user_id: int, deny_until: datetime, keep: str | None = None
    ) -> list[str]:
        return await self._inner.revoke_user(user_id, deny_until, keep)

    async def is_denied(self, session_id: str, now: datetime) -> bool:
        return await self._inner.is_denied(session_id, now)

    async def set_role(self, user_id: int, role: str) -> int:
        return await self._inner.set_role(user_id, role)

    async def reassure(self, session_id: str, assurance: Assurance) -> bool:
        return await self._inner.reassure(session_id, assurance)

    async def with_grants(self, session_ids: Sequence[str]) -> set[str]:
        return await self._inner.with_grants(session_ids)

    async def ping(self) -> None:
        await self._inner.ping()


class MeteredOutboxDelivery(OutboxDelivery):
    """Reports the backlog (depth, oldest age) after each claim: once per sender poll."""

    def __init__(self, inner: OutboxDelivery) -> None:
        self._inner = inner

    async def claim(self, now: datetime, lease: timedelta, limit: int) -> list[QueuedMail]:
        claimed = await self._inner.claim(now, lease, limit)
        record_outbox(*await self._inner.backlog(now))
        return claimed

    async def sent(self, mail_id: int, now: datetime) -> None:
        await self._inner.sent(mail_id, now)

    async def retry(self, mail_id: int, due_at: datetime, error: str) -> None:
        await self._inner.retry(mail_id, due_at, error)

    async def give_up(self, mail_id: int, now: datetime, error: str) -> None:
        await self._inner.give_up(mail_id, now, error)

    async def backlog(self, now: datetime) -> tuple[int, float | None]:
        return await self._inner.backlog(now)

    async def delete_settled(self, before: datetime, limit: int) -> int:
        return await self._inner.delete_settled(before, limit)


class MeteredBreachedPasswords(BreachedPasswords):
    def __init__(self, inner: BreachedPasswords) -> None:
        self._inner = inner

    async def is_breached(self, password: str) -> bool:
        started = time.perf_counter()
        try:
            return await self._inner.is_breached(password)
        except BreachCheckUnavailable as e:
            PWNED_RANGE_FAILURES.labels(reason=e.reason).inc()
            raise
        finally:
            PWNED_RANGE_SECONDS.observe(time.perf_counter() - started)


GONE = 410


class MeteredWebhookOutbox(WebhookOutbox):
    """Counts each settled attempt (delivered, failed and to be retried, gave_up after 3 days,
    disabled by a 410) and reports the backlog after each claim: once per sender poll."""

    def __init__(self, inner: WebhookOutbox) -> None:
        self._inner = inner

    async def claim(self, now: datetime, lease: timedelta, limit: int) -> list[ClaimedWebhook]:
        claimed = await self._inner.claim(now, lease, limit)
        record_webhook_queue(*await self._inner.backlog(now))
        return claimed

    async def delivered(self, delivery_id: int, now: datetime, status: int) -> None:
        await self._inner.delivered(delivery_id, now, status)
        WEBHOOK_DELIVERIES.labels(outcome="delivered").inc()

    async def retry(
        self, delivery_id: int, due_at: datetime, error: str, status: int | None
    ) -> None:
        await self._inner.retry(delivery_id, due_at, error, status)
        WEBHOOK_DELIVERIES.labels(outcome="failed").inc()

    async def give_up(
        self, delivery_id: int, now: datetime, error: str, status: int | None
    ) -> None:
        await self._inner.give_up(delivery_id, now, error, status)
        WEBHOOK_DELIVERIES.labels(outcome="disabled" if status == GONE else "gave_up").inc()

    async def disable_endpoint(self, endpoint_id: int, now: datetime) -> None:
        await self._inner.disable_endpoint(endpoint_id, now)

    async def backlog(self, now: datetime) -> tuple[int, float | None]:
        return await self._inner.backlog(now)

    async def delete_settled(self, before: datetime, limit: int) -> int:
        return await self._inner.delete_settled(before, limit)


class MeteredWebhookTransport(WebhookTransport):
    """Counts the attempts refused before any request (SSRF); the outbox counts them again
    as failed or gave_up, as it settles them."""

    def __init__(self, inner: WebhookTransport) -> None:
        self._inner = inner

    async def post(self, url: str, headers: dict[str, str], body: bytes) -> int:
        try:
            return await self._inner.post(url, headers, body)
        except WebhookRefused:
            WEBHOOK_DELIVERIES.labels(outcome="refused").inc()
            raise
