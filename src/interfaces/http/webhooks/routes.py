"""``/admin/webhooks…``: webhook endpoints, their secrets and deliveries, for admins."""

from __future__ import annotations

from litestar import Controller, Response, delete, get, post
from litestar.di import Provide
from litestar.params import FromPath, JSONBody
from litestar.status_codes import (
    HTTP_200_OK,
    HTTP_201_CREATED,
    HTTP_202_ACCEPTED,
    HTTP_204_NO_CONTENT,
)

from application.admin import Actor
from application.webhooks.endpoints import AddWebhookCommand, ManageWebhooks
from domain import errors as e
from domain.values import MAX_ID
from interfaces.http.admin.routes import GUARDED, Admin, admin
from interfaces.http.documentation import SIGNED_IN, problems
from interfaces.http.providers import NO_STORE, Client, Inject
from interfaces.http.webhooks.bodies import (
    AddWebhookBody,
    DeliveriesBody,
    DeliveryBody,
    WebhookBody,
    WebhooksBody,
    WebhookSecretBody,
)

ONE_WEBHOOK = (*GUARDED, e.WebhookNotFound)


def _known(*ids: int) -> None:
    if not all(1 <= i <= MAX_ID for i in ids):
        raise e.WebhookNotFound()


def _actor(admin: Admin, client: Client) -> Actor:
    return Actor(admin_id=admin.id, client=client)


class WebhooksController(Controller):
    path = "/admin/webhooks"
    tags = ("admin",)
    dependencies = {"admin": Provide(admin)}  # noqa: RUF012 - Litestar reads it once, at start
    security = SIGNED_IN

    @post(
        "/",
        status_code=HTTP_201_CREATED,
        summary="Add an endpoint; its signing secret is shown this once",
        responses=problems(*GUARDED, e.ValidationFailed),
    )
    async def add(
        self,
        data: JSONBody[AddWebhookBody],
        admin: Admin,
        client: Client,
        manage_webhooks: Inject[ManageWebhooks],
    ) -> Response[WebhookSecretBody]:
        added = await manage_webhooks.add(
            AddWebhookCommand(url=data.url, events=data.events, actor=_actor(admin, client))
        )
        return Response(
            WebhookSecretBody.with_secret(added), status_code=HTTP_201_CREATED, headers=NO_STORE
        )

    @get("/", summary="The endpoints (without their secrets)", responses=problems(*GUARDED))
    async def list_webhooks(
        self, admin: Admin, manage_webhooks: Inject[ManageWebhooks]
    ) -> Response[WebhooksBody]:
        endpoints = await manage_webhooks.all()
        return Response(WebhooksBody([WebhookBody.of(w) for w in endpoints]), headers=NO_STORE)

    @delete(
        "/{webhook_id:int}",
        status_code=HTTP_204_NO_CONTENT,
        summary="Remove an endpoint and its deliveries",
        responses=problems(*ONE_WEBHOOK),
    )
    async def remove(
        self,
        webhook_id: FromPath[int],
        admin: Admin,
        client: Client,
        manage_webhooks: Inject[ManageWebhooks],
    ) -> None:
        _known(webhook_id)
        await manage_webhooks.remove(webhook_id, _actor(admin, client))

    @post(
        "/{webhook_id:int}/rotate-secret",
        status_code=HTTP_201_CREATED,
        summary="A new signing secret, shown this once; the old one signs beside it for 24 h",
        responses=problems(*ONE_WEBHOOK),
    )
    async def rotate_secret(
        self,
        webhook_id: FromPath[int],
        admin: Admin,
        client: Client,
        manage_webhooks: Inject[ManageWebhooks],
    ) -> Response[WebhookSecretBody]:
        _known(webhook_id)
        rotated = await manage_webhooks.rotate_secret(webhook_id, _actor(admin, client))
        return Response(
            WebhookSecretBody.with_secret(rotated), status_code=HTTP_201_CREATED, headers=NO_STORE
        )

    @post(
        "/{webhook_id:int}/enable",
        status_code=HTTP_200_OK,
        summary="Send to an endpoint a 410 disabled again; what waited for it resumes",
        responses=problems(*ONE_WEBHOOK),
    )
    async def enable(
        self,
        webhook_id: FromPath[int],
        admin: Admin,
        client: Client,
        manage_webhooks: Inject[ManageWebhooks],
    ) -> Response[WebhookBody]:
        _known(webhook_id)
        enabled = await manage_webhooks.enable(webhook_id, _actor(admin, client))
        return Response(WebhookBody.of(enabled), headers=NO_STORE)

    @get(
        "/{webhook_id:int}/deliveries",
        summary="The endpoint's latest deliveries, newest first",
        responses=problems(*ONE_WEBHOOK),
    )
    async def deliveries(
        self, webhook_id: FromPath[int], admin: Admin, manage_webhooks: Inject[ManageWebhooks]
    ) -> Response[DeliveriesBody]:
        _known(webhook_id)
        listed = await manage_webhooks.deliveries(webhook_id)
        return Response(DeliveriesBody([DeliveryBody.of(d) for d in listed]), headers=NO_STORE)

    @post(
        "/{webhook_id:int}/deliveries/{delivery_id:int}/replay",
        status_code=HTTP_202_ACCEPTED,
        summary="Send a delivery again (the same webhook-id), behind the user's pending ones",
        responses=problems(*ONE_WEBHOOK),
    )
    async def replay(
        self,
        webhook_id: FromPath[int],
        delivery_id: FromPath[int],
        admin: Admin,
        client: Client,
        manage_webhooks: Inject[ManageWebhooks],
    ) -> None:
        _known(webhook_id, delivery_id)
        await manage_webhooks.replay(webhook_id, delivery_id, _actor(admin, client))
