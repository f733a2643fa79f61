"""Webhooks: the endpoints an admin configures and the outbox their deliveries wait in.

An event is written by the storage adapter that makes the change, in the same transaction
(one delivery per subscribed endpoint), so no change goes unannounced and no announcement
tells of a change that was rolled back.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Protocol


class WebhookEvent(StrEnum):
    USER_CREATED = "user.created"
    USER_VERIFIED = "user.verified"
    USER_UPDATED = "user.updated"
    USER_DISABLED = "user.disabled"
    USER_ENABLED = "user.enabled"
    USER_DELETED = "user.deleted"
    SESSION_CREATED = "session.created"
    SESSION_REVOKED = "session.revoked"
    MFA_ENABLED = "mfa.enabled"
    MFA_DISABLED = "mfa.disabled"
    PASSWORD_CHANGED = "password.changed"


@dataclass(frozen=True, slots=True, kw_only=True)
class WebhookEndpoint:
    id: int
    url: str
    events: tuple[WebhookEvent, ...]
    secret: str  # whsec_<base64 key>
    previous_secret: str | None
    previous_until: datetime | None  # the rotated-out secret signs until then
    disabled_at: datetime | None
    created_at: datetime

    def signing_secrets(self, now: datetime) -> tuple[str, ...]:
        previous, until = self.previous_secret, self.previous_until
        if previous is not None and until is not None and now < until:
            return (self.secret, previous)
        return (self.secret,)


@dataclass(frozen=True, slots=True, kw_only=True)
class NewWebhookEndpoint:
    url: str
    events: tuple[WebhookEvent, ...]
    secret: str
    created_at: datetime


@dataclass(frozen=True, slots=True, kw_only=True)
class WebhookDelivery:
    """One event on its way to one endpoint; ``message_id`` is its ``webhook-id``, the same
    on every attempt (and on a replay), so a receiver can drop duplicates."""

    id: int
    endpoint_id: int
    message_id: str
    type: str
    payload: str  # the JSON body, signed as it is
    created_at: datetime
    attempts: int
    last_status: int | None
    last_error: str | None
    delivered_at: datetime | None
    failed_at: datetime | None


@dataclass(frozen=True, slots=True, kw_only=True)
class ClaimedWebhook:
    delivery: WebhookDelivery
    endpoint: WebhookEndpoint


class WebhookEndpoints(Protocol):
    async def add(self, endpoint: NewWebhookEndpoint) -> WebhookEndpoint: ...

    async def all(self) -> list[WebhookEndpoint]: ...

    async def get(self, endpoint_id: int) -> WebhookEndpoint | None: ...

    async def remove(self, endpoint_id: int) -> bool:
        """The endpoint and its deliveries are gone; False when it was unknown."""
        ...

    async def rotate(
        self, endpoint_id: int, secret: str, previous_until: datetime
    ) -> WebhookEndpoint | None:
        """``secret`` signs from now on; the current one goes on signing until
        ``previous_until``. None when the endpoint is unknown."""
        ...

    async def enable(self, endpoint_id: int, now: datetime) -> WebhookEndpoint | None:
        """Send to the endpoint again: its pending deliveries resume, the one a 410 answered
        first among them (it is queued again as of ``now``). None when it is unknown."""
        ...

    async def deliveries(self, endpoint_id: int, limit: int) -> list[WebhookDelivery]:
        """The endpoint's deliveries, newest first."""
        ...

    async def replay(self, endpoint_id: int, delivery_id: int, now: datetime) -> bool:
        """Queue the delivery again (the same message id), behind the user's pending ones;
        False when the endpoint has no such delivery."""
        ...


class WebhookOutbox(Protocol):
    """The sender's side. Claims are leases, as in the mail outbox. Of one user's events to
    one endpoint, only the oldest unsettled one is ever claimable: delivery in order."""

    async def claim(self, now: datetime, lease: timedelta, limit: int) -> list[ClaimedWebhook]: ...

    async def delivered(self, delivery_id: int, now: datetime, status: int) -> None: ...

    async def retry(
        self, delivery_id: int, due_at: datetime, error: str, status: int | None
    ) -> None: ...

    async def give_up(
        self, delivery_id: int, now: datetime, error: str, status: int | None
    ) -> None: ...

    async def disable_endpoint(self, endpoint_id: int, now: datetime) -> None:
        """The receiver said 410 Gone: nothing more is sent to it."""
        ...

    async def backlog(self, now: datetime) -> tuple[int, float | None]:
        """How many deliveries wait, and the oldest one's age in seconds (None if none)."""
        ...

    async def delete_settled(self, before: datetime, limit: int) -> int:
        """At most ``limit`` deliveries delivered or given up before ``before`` deleted; how
        many were."""
        ...


class WebhookUnreachable(Exception):
    """No answer: the target is refused (SSRF), unreachable, or took too long."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class WebhookRefused(WebhookUnreachable):
    """The target is refused before any request is made (SSRF)."""


class WebhookTransport(Protocol):
    async def post(self, url: str, headers: dict[str, str], body: bytes) -> int:
        """POST ``body`` and return the receiver's status, or raise ``WebhookUnreachable``."""
        ...
