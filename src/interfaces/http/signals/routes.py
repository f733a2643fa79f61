"""Shared Signals for resource servers (OpenID SSF 1.0, CAEP 1.0; RFC 8417 SETs delivered by
poll, RFC 8936): the transmitter's metadata, the receivers' streams (one per verifying
process), and the poll on each."""

from __future__ import annotations

from typing import Annotated, Any

from litestar import Controller, Request, Response, delete, get, post
from litestar.connection import ASGIConnection
from litestar.handlers import BaseRouteHandler
from litestar.params import FromPath, JSONBody, QueryParameter
from litestar.status_codes import HTTP_201_CREATED, HTTP_204_NO_CONTENT

from application.signals import (
    EVENT_TYPES,
    POLL_DELIVERY,
    CloseSignalStream,
    OpenSignalStream,
    PollCommand,
    PollSecurityEvents,
    ReadSignalStreams,
)
from domain import errors as e
from domain.ports import SignalStream
from infrastructure.config import Settings
from interfaces.bootstrap import Service
from interfaces.http.documentation import BODY, RECEIVING, problems
from interfaces.http.errors import SIGNALS_OFF
from interfaces.http.headers import authorization
from interfaces.http.providers import NO_STORE, Inject, bearer_in
from interfaces.http.signals.requests import PollRequest, StreamRequest
from interfaces.http.signals.responses import (
    AuthorizationScheme,
    Delivery,
    PollBody,
    StreamBody,
    TransmitterMetadata,
)

EVENTS = sorted(EVENT_TYPES.values())
StreamId = Annotated[str, QueryParameter(min_length=1, max_length=64)]
SomeStreamId = Annotated[str | None, QueryParameter(min_length=1, max_length=64)]


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
    token = bearer_in(authorization(connection.scope))
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

    @post(
        "/ssf/stream",
        status_code=HTTP_201_CREATED,
        guards=[signal_receiver],
        security=RECEIVING,
        summary="Open a stream of events: one per verifying process (SSF 1.0 §8.1.1.1)",
        description="Each process that verifies tokens opens a stream of its own and polls "
        "it at `delivery.endpoint_url`: what one acknowledges is acknowledged for it alone. A "
        "new stream starts with every session end still kept (an access token's lifetime), "
        "so a process that starts again misses none. A stream nobody polls for as long "
        "closes; poll only (`urn:ietf:rfc:8936`). 409 `too_many_streams` past 1,000 streams "
        "of one receiver.",
        responses=problems(*BODY, e.InvalidReceiver, e.TooManySignalStreams, SIGNALS_OFF),
    )
    async def open_stream(
        self,
        request: Request[Any, Any, Any],
        data: JSONBody[StreamRequest],
        settings: Inject[Settings],
        open_signal_stream: Inject[OpenSignalStream],
    ) -> Response[StreamBody]:
        stream = await open_signal_stream.execute(_receiver(request), data.delivery.method)
        return Response(_stream_body(stream, settings), status_code=201, headers=NO_STORE)

    @get(
        "/ssf/stream",
        guards=[signal_receiver],
        security=RECEIVING,
        summary="The caller's streams, or the one named by `stream_id` (SSF 1.0 §8.1.1.2)",
        responses=problems(
            e.InvalidReceiver, e.SignalStreamNotFound, e.ValidationFailed, SIGNALS_OFF
        ),
    )
    async def streams(
        self,
        request: Request[Any, Any, Any],
        settings: Inject[Settings],
        read_signal_streams: Inject[ReadSignalStreams],
        stream_id: SomeStreamId = None,
    ) -> Response[StreamBody | list[StreamBody]]:
        found = await read_signal_streams.execute(_receiver(request), stream_id)
        bodies = [_stream_body(stream, settings) for stream in found]
        return Response(bodies[0] if stream_id else bodies, headers=NO_STORE)

    @delete(
        "/ssf/stream",
        status_code=HTTP_204_NO_CONTENT,
        guards=[signal_receiver],
        security=RECEIVING,
        summary="Close a stream: its process stops verifying (SSF 1.0 §8.1.1.5)",
        responses=problems(
            e.InvalidReceiver, e.SignalStreamNotFound, e.ValidationFailed, SIGNALS_OFF
        ),
    )
    async def close_stream(
        self,
        request: Request[Any, Any, Any],
        stream_id: StreamId,
        close_signal_stream: Inject[CloseSignalStream],
    ) -> None:
        await close_signal_stream.execute(_receiver(request), stream_id)

    @post(
        "/ssf/poll/{stream_id:str}",
        status_code=200,
        guards=[signal_receiver],
        security=RECEIVING,
        summary="Poll a stream for security events (RFC 8936): ended sessions as signed SETs",
        description="`ack` (and `setErrs`) the `jti`s of SETs received before on this stream; "
        "they are not sent on it again. Without `returnImmediately` the poll waits up to 10 s "
        "for an event and answers as soon as one is written. Each SET is a JWS (`typ` "
        "`secevent+jwt`) signed with a key of `/.well-known/jwks.json`. 404 "
        "`stream_not_found`: the stream is closed (or went idle); open another.",
        responses=problems(
            *BODY, e.InvalidReceiver, e.SignalStreamNotFound, SIGNALS_OFF, e.StorageUnavailable
        ),
    )
    async def poll(
        self,
        request: Request[Any, Any, Any],
        stream_id: FromPath[str],
        data: JSONBody[PollRequest],
        poll_security_events: Inject[PollSecurityEvents],
    ) -> Response[PollBody]:
        polled = await poll_security_events.execute(
            PollCommand(
                receiver=_receiver(request),
                stream_id=stream_id,
                acknowledged=[*data.ack, *data.set_errs],
                max_events=data.max_events,
                return_immediately=data.return_immediately,
            )
        )
        body = PollBody(sets=polled.sets, more_available=polled.more_available)
        return Response(body, headers=NO_STORE)


def _stream_body(stream: SignalStream, settings: Settings) -> StreamBody:
    issuer = _issuer(settings)
    return StreamBody(
        stream_id=stream.id,
        iss=issuer,
        aud=stream.receiver,
        events_supported=EVENTS,
        events_requested=EVENTS,
        events_delivered=EVENTS,
        delivery=Delivery(method=POLL_DELIVERY, endpoint_url=f"{issuer}/ssf/poll/{stream.id}"),
        description="Every session that ends (logout, revocation, reuse, an admin), as "
        "CAEP session-revoked, kept for an access token's lifetime.",
    )
