"""Request and response bodies of the admin's webhook API."""

from __future__ import annotations

from typing import Annotated

import msgspec

from application.webhooks.endpoints import MAX_URL
from domain.ports import WebhookDelivery, WebhookEndpoint, WebhookEvent
from interfaces.http.requests import documented
from interfaces.timestamps import iso, iso_or_none


class AddWebhookBody(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    url: Annotated[str, documented(max_length=MAX_URL)]
    events: Annotated[list[str], msgspec.Meta(max_length=len(WebhookEvent))]


class WebhookBody(msgspec.Struct, frozen=True):
    id: int
    url: str
    events: list[str]
    disabled: bool
    created_at: str

    @classmethod
    def of(cls, endpoint: WebhookEndpoint) -> WebhookBody:
        return cls(
            id=endpoint.id,
            url=endpoint.url,
            events=[event.value for event in endpoint.events],
            disabled=endpoint.disabled_at is not None,
            created_at=iso(endpoint.created_at),
        )


class WebhookSecretBody(WebhookBody, frozen=True):
    """The secret is shown once, when the endpoint is added or its secret rotated; no other
    answer repeats it."""

    secret: str

    @classmethod
    def with_secret(cls, endpoint: WebhookEndpoint) -> WebhookSecretBody:
        return cls(**msgspec.structs.asdict(WebhookBody.of(endpoint)), secret=endpoint.secret)


class WebhooksBody(msgspec.Struct, frozen=True):
    webhooks: list[WebhookBody]


class DeliveryBody(msgspec.Struct, frozen=True):
    id: int
    message_id: str
    type: str
    created_at: str
    attempts: int
    last_status: int | None
    last_error: str | None
    delivered_at: str | None
    failed_at: str | None

    @classmethod
    def of(cls, delivery: WebhookDelivery) -> DeliveryBody:
        return cls(
            id=delivery.id,
            message_id=delivery.message_id,
            type=delivery.type,
            created_at=iso(delivery.created_at),
            attempts=delivery.attempts,
            last_status=delivery.last_status,
            last_error=delivery.last_error,
            delivered_at=iso_or_none(delivery.delivered_at),
            failed_at=iso_or_none(delivery.failed_at),
        )


class DeliveriesBody(msgspec.Struct, frozen=True):
    deliveries: list[DeliveryBody]
