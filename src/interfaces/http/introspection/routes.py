"""``POST /auth/introspect``: token introspection (RFC 7662) for resource servers."""

from __future__ import annotations

from typing import Any

from litestar import Controller, Response, post
from litestar.connection import ASGIConnection
from litestar.handlers import BaseRouteHandler
from litestar.params import JSONBody

from application.introspection import IntrospectToken
from domain import errors as e
from interfaces.bootstrap import Service
from interfaces.http.documentation import BODY, INTROSPECTING, FormOrJsonBody, problems
from interfaces.http.errors import INTROSPECTION_OFF, MALFORMED_FORM
from interfaces.http.headers import authorization
from interfaces.http.introspection.basic_auth import basic_credentials
from interfaces.http.introspection.requests import IntrospectRequest
from interfaces.http.introspection.responses import IntrospectionBody
from interfaces.http.json_or_form import ALLOWS_FORM
from interfaces.http.providers import Inject


def introspection_client(
    connection: ASGIConnection[Any, Any, Any, Any], _: BaseRouteHandler
) -> None:
    """The caller proves it is a configured resource server before its body is even read
    (RFC 7662 §2.1 and §4: no anonymous token scanning). Off (404) when none is configured."""
    service: Service = connection.app.state.service
    clients = service.cases.introspection_clients
    if not clients.enabled:
        raise INTROSPECTION_OFF.error()
    clients.authenticate(*basic_credentials(authorization(connection.scope)))


class IntrospectionController(Controller):
    path = "/auth/introspect"
    tags = ("resource servers",)

    @post(
        "/",
        status_code=200,
        guards=[introspection_client],
        opt={ALLOWS_FORM: True},
        operation_class=FormOrJsonBody,
        security=INTROSPECTING,
        summary="Is this access token active? (RFC 7662, for resource servers)",
        description="`active: true` with the token's claims while the access token verifies "
        "and its session lives (logout and revocation count at once); `active: false` for "
        "anything else, refresh tokens included. HTTP Basic with a client of "
        "AUTH_INTROSPECTION_CLIENTS; 404 when none is configured.",
        responses=problems(
            *BODY, MALFORMED_FORM, e.InvalidClient, INTROSPECTION_OFF, e.StorageUnavailable
        ),
    )
    async def introspect(
        self, data: JSONBody[IntrospectRequest], introspect: Inject[IntrospectToken]
    ) -> Response[IntrospectionBody]:
        active = await introspect.execute(data.token)
        # RFC 7662 §4: an answer about a token must not be cached along the way.
        return Response(
            IntrospectionBody.of(active),
            headers={"Cache-Control": "no-store", "Pragma": "no-cache"},
        )
