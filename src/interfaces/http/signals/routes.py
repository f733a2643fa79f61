"""Shared Signals for resource servers (OpenID SSF 1.0, CAEP 1.0; RFC 8417 SETs delivered by
poll, RFC 8936): the transmitter's metadata, each receiver's stream, and the poll."""

from __future__ import annotations

from typing import Any

from litestar import Controller, Request, Response, get, post
from litestar.connection import ASGIConnection
from litestar.handlers import BaseRouteHandler
from litestar.params import JSONBody

from application.signals import EVENT_TYPES, POLL_DELIVERY, PollCommand, PollSecurityEvents
from domain import errors as e
from infrastructure.config import Settings
from interfaces.bootstrap import Service
from interfaces.http.documentation import BODY, RECEIVING, problems
from interfaces.http.errors import SIGNALS_OFF
from interfaces.http.providers import NO_STORE, Inject, bearer_token
from interfaces.http.signals.requests import PollRequest
from interfaces.http.signals.responses import (
    AuthorizationScheme,
    Delivery,
    PollBody,
    StreamBody,
    TransmitterMetadata,
)

EVENTS = sorted(EVENT_TYPES.values())


def _service(connection: ASGIConnection[Any, Any, Any, Any]) -> Service:
    service: Service = connection.app.state.service
    if not service.cases.signal_receivers.enabled:
        raise SIGNALS_OFF.error()
    return service


def signals_on(connection: ASGIConnection[Any, Any, Any, Any], _: BaseRouteHandler) -> None:
    _service(connection)


def signal_receiver(connection: ASGIConnection[Any, Any, Any, Any], _: BaseRouteHandler) -> None:
    """A configured receiver's bearer token (RFC 8936 §3: the poll is authorized), checked
    before the body is read; the receiver's name is kept for the handler."""
    receivers = _service(connection).cases.signal_receivers
    token = bearer_token(connection.headers.get("authorization"))
    connection.scope["state"]["signal_receiver"] = receivers.authenticate(token)


def _receiver(connection: ASGIConnection[Any, Any, Any, Any]) -> str:
    name: str = connection.scope["state"]["signal_receiver"]
    return name


def _issuer(settings: Settings) -> str:
    return settings.issuer.rstrip("/")


class SignalsController(Controller):
    tags = ("resource servers",)

    @get(
        "/.well-known/ssf-configuration",
        guards=[signals_on],
        summary="Shared Signals transmitter metadata (OpenID SSF 1.0 §7.1)",
        description="Where receivers find the keys that sign the events and their stream. "
        "404 when no AUTH_SSF_RECEIVERS are configured.",
        responses=problems(SIGNALS_OFF),
    )
    async def metadata(self, settings: Inject[Settings]) -> TransmitterMetadata:
        issuer = _issuer(settings)
        return TransmitterMetadata(
            spec_version="1_0",
            issuer=issuer,
            jwks_uri=f"{issuer}/.well-known/jwks.json",
            delivery_methods_supported=[POLL_DELIVERY],
            configuration_endpoint=f"{issuer}/ssf/stream",
            authorization_schemes=[AuthorizationScheme(spec_urn="urn:ietf:rfc:6750")],
            default_subjects="ALL",
        )

    @get(
        "/ssf/stream",
        guards=[signal_receiver],
        security=RECEIVING,
        summary="The caller's event stream: what it gets and where to poll (SSF 1.0 §8.1.1)",
        responses=problems(e.InvalidReceiver, SIGNALS_OFF),
    )
    async def stream(
        self, request: Request[Any, Any, Any], settings: Inject[Settings]
    ) -> Response[StreamBody]:
        receiver = _receiver(request)
        issuer = _issuer(settings)
        body = StreamBody(
            stream_id=receiver,
            iss=issuer,
            aud=receiver,
            events_supported=EVENTS,
            events_requested=EVENTS,
            events_delivered=EVENTS,
            delivery=Delivery(method=POLL_DELIVERY, endpoint_url=f"{issuer}/ssf/poll"),
            description="Every session that ends (logout, revocation, reuse, an admin), as "
            "CAEP session-revoked, kept for an access token's lifetime.",
        )
        return Response(body, headers=NO_STORE)

    @post(
        "/ssf/poll",
        status_code=200,
        guards=[signal_receiver],
        security=RECEIVING,
        summary="Poll for security events (RFC 8936): ended sessions as signed SETs",
        description="`ack` (and `setErrs`) the `jti`s of SETs received before; they are not "
        "sent again. Without `returnImmediately` the poll waits up to 10 s for an event and "
        "answers as soon as one is written. Each SET is a JWS (`typ` `secevent+jwt`) signed "
        "with a key of `/.well-known/jwks.json`.",
        responses=problems(*BODY, e.InvalidReceiver, SIGNALS_OFF, e.StorageUnavailable),
    )
    async def poll(
        self,
        request: Request[Any, Any, Any],
        data: JSONBody[PollRequest],
        poll_security_events: Inject[PollSecurityEvents],
    ) -> Response[PollBody]:
        polled = await poll_security_events.execute(
            PollCommand(
                receiver=_receiver(request),
                acknowledged=[*data.ack, *data.set_errs],
                max_events=data.max_events,
                return_immediately=data.return_immediately,
            )
        )
        body = PollBody(sets=polled.sets, more_available=polled.more_available)
        return Response(body, headers=NO_STORE)
