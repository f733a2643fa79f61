"""Webhook fakes for the unit world. The memory repositories announce nothing, so the
memory outbox stays empty; the SQL adapters and their events are tested in the contract
suite, and delivery against a real receiver on loopback."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timedelta

from domain.ports import (
    ClaimedWebhook,
    NewWebhookEndpoint,
    WebhookDelivery,
    WebhookEndpoint,
    WebhookEndpoints,
    WebhookOutbox,
    WebhookTransport,
    WebhookUnreachable,
)


class MemoryWebhookEndpoints(WebhookEndpoints):
    def __init__(self) -> None:
        self._endpoints: dict[int, WebhookEndpoint] = {}

    async def add(self, endpoint: NewWebhookEndpoint) -> WebhookEndpoint:
        added = WebhookEndpoint(
            id=len(self._endpoints) + 1,
            url=endpoint.url,
            events=endpoint.events,
            secret=endpoint.secret,
            previous_secret=None,
            previous_until=None,
            disabled_at=None,
            created_at=endpoint.created_at,
        )
        self._endpoints[added.id] = added
        return added

    async def all(self) -> list[WebhookEndpoint]:
        return list(self._endpoints.values())

    async def get(self, endpoint_id: int) -> WebhookEndpoint | None:
        return self._endpoints.get(endpoint_id)

    async def remove(self, endpoint_id: int) -> bool:
        return self._endpoints.pop(endpoint_id, None) is not None

    async def rotate(
        self, endpoint_id: int, secret: str, previous_until: datetime
    ) -> WebhookEndpoint | None:
        endpoint = self._endpoints.get(endpoint_id)
        if endpoint is None:
            return None
        rotated = replace(
            endpoint, secret=secret, previous_secret=endpoint.secret, previous_until=previous_until
        )
        self._endpoints[endpoint_id] = rotated
        return rotated

    async def enable(self, endpoint_id: int, now: datetime) -> WebhookEndpoint | None:
        endpoint = self._endpoints.get(endpoint_id)
        if endpoint is None:
            return None
        self._endpoints[endpoint_id] = replace(endpoint, disabled_at=None)
        return self._endpoints[endpoint_id]

    async def deliveries(self, endpoint_id: int, limit: int) -> list[WebhookDelivery]:
        return []

    async def replay(self, endpoint_id: int, delivery_id: int, now: datetime) -> bool:
        return False


class EmptyWebhookOutbox(WebhookOutbox):
    async def claim(self, now: datetime, lease: timedelta, limit: int) -> list[ClaimedWebhook]:
        return []

    async def delivered(self, delivery_id: int, now: datetime, status: int) -> None:
        raise AssertionError("nothing was claimed")

    async def retry(
        self, delivery_id: int, due_at: datetime, error: str, status: int | None
    ) -> None:
        raise AssertionError("nothing was claimed")

    async def give_up(
        self, delivery_id: int, now: datetime, error: str, status: int | None
    ) -> None:
        raise AssertionError("nothing was claimed")

    async def disable_endpoint(self, endpoint_id: int, now: datetime) -> None:
        raise AssertionError("nothing was claimed")

    async def backlog(self, now: datetime) -> tuple[int, float | None]:
        return 0, None

    async def delete_settled(self, before: datetime, limit: int) -> int:
        return 0


class NoWebhookTransport(WebhookTransport):
    async def post(self, url: str, headers: dict[str, str], body: bytes) -> int:
        raise WebhookUnreachable("the unit world has no network")
