"""What handlers take by name, each through a ``Provide`` of its own: every use case of the
service under its name in ``UseCases`` (``refresh: Inject[RefreshSession]``), the settings,
the signing keys, the health checks, the caller, the client, the refresh cookie and the
transport wish.

No ``from __future__ import annotations`` here: the refresh cookie's name comes from the
settings, so its parameter is declared when the app is created and must be evaluated then.
"""

from collections.abc import Mapping
from dataclasses import fields
from typing import Annotated, Any, TypeAlias, TypeVar

from litestar import Request
from litestar.di import NamedDependency, Provide
from litestar.params import CookieParameter, HeaderParameter, SkipValidation

from application.client import ClientInfo
from domain.ports import AccessClaims, AccessTokens
from infrastructure.config import Settings
from interfaces.bootstrap import Check, Service, UseCases
from interfaces.http.client_ip import client_ip
from interfaces.http.cookies import DEVICE
from interfaces.http.headers import authorization, header_list

T = TypeVar("T")
# Explicit name-based injection; our own objects need no validation by the signature model.
Inject: TypeAlias = NamedDependency[SkipValidation[T]]
Caller = NamedDependency[SkipValidation[AccessClaims]]
Client = NamedDependency[SkipValidation[ClientInfo]]
BearerToken = NamedDependency[SkipValidation[str | None]]
RefreshCookie = NamedDependency[SkipValidation[str | None]]
BodyTransport = NamedDependency[SkipValidation[bool]]
NO_STORE = {"Cache-Control": "no-store"}
MAX_USER_AGENT = 512

UserAgent = Annotated[str | None, HeaderParameter(name="user-agent")]
# "body": the refresh token travels in the JSON body instead of a cookie (spec: Body transport).
TransportHeader = Annotated[
    str | None,
    HeaderParameter(
        name="x-auth-transport",
        description="`body`: the refresh token comes in the JSON body (`refresh_token`, "
        "`refresh_expires_in`) instead of a cookie, for clients that cannot hold cookies.",
    ),
]


def provide(settings: Settings) -> dict[str, Provide]:
    use_cases = {
        case.name: Provide(_use_case(case.name), sync_to_thread=False) for case in fields(UseCases)
    }
    return {
        **use_cases,
        "settings": Provide(lambda: settings, use_cache=True, sync_to_thread=False),
        "access_tokens": Provide(access_tokens, sync_to_thread=False),
        "health_checks": Provide(health_checks, sync_to_thread=False),
        "caller": Provide(caller),
        "client": Provide(_client(settings), sync_to_thread=False),
        "bearer_token": Provide(bearer_of, sync_to_thread=False),
        "body_transport": Provide(body_transport, sync_to_thread=False),
        "refresh_cookie": Provide(
            _refresh_cookie_named(settings.cookie_name), sync_to_thread=False
        ),
    }


def access_tokens(request: Request[Any, Any, Any]) -> AccessTokens:
    """What signs and verifies the access tokens: its public keys are the JWKS."""
    opened: Service = request.app.state.service
    return opened.access_tokens


def health_checks(request: Request[Any, Any, Any]) -> Mapping[str, Check]:
    opened: Service = request.app.state.service
    return opened.checks


def _use_case(name: str) -> Any:
    def use_case(request: Request[Any, Any, Any]) -> Any:
        return getattr(request.app.state.service.cases, name)

    return use_case


def bearer_in(authorization: str | None) -> str | None:
    scheme, _, token = (authorization or "").partition(" ")
    return token.strip() or None if scheme.lower() == "bearer" else None


async def caller(request: Request[Any, Any, Any]) -> AccessClaims:
    # The header is read here rather than through the ``bearer_token`` dependency: with no
    # dependency of its own it resolves without a task group on every request.
    opened: Service = request.app.state.service
    return await opened.cases.authenticate.execute(bearer_of(request))


def bearer_of(request: Request[Any, Any, Any]) -> str | None:
    """The request's bearer token, read from the scope (``headers``): every signed-in
    request asks for it. One Authorization line only (``authorization``)."""
    return bearer_in(authorization(request.scope))


def _client(settings: Settings) -> Any:
    def client(
        request: Request[Any, Any, Any],
        user_agent: UserAgent = None,
    ) -> ClientInfo:
        return client_of(request, settings, user_agent)

    return client


def client_of(
    request: Request[Any, Any, Any],
    settings: Settings,
    user_agent: str | None,
) -> ClientInfo:
    """Who is asking: the ``client`` dependency, or a hot path's own call (see ``opened``)."""
    peer = request.client.host if request.client else None
    forwarded_for = header_list(request.scope, b"x-forwarded-for")
    return ClientInfo(
        ip_address=client_ip(peer, forwarded_for, settings),
        user_agent=user_agent[:MAX_USER_AGENT] if user_agent else None,
        # Read here, not declared: every operation would list them otherwise; the API
        # reference describes both ("New-device notice").
        device=request.cookies.get(DEVICE) or request.headers.get("x-device-id"),
    )


def opened(request: Request[Any, Any, Any]) -> Service:
    """The running service, for a hot path that takes one dependency only: Litestar
    resolves two or more in a task group, which costs more than the rest of a ``GET
    /auth/me`` and a sixth of a refresh (litestar-org/litestar#4563). Such a handler names
    its use case through it (``opened(request).cases.refresh``) and reads the per-request
    values as parameters (``client_of``, ``body_transport``)."""
    service: Service = request.app.state.service
    return service


def body_transport(x_auth_transport: TransportHeader = None) -> bool:
    return (x_auth_transport or "").strip().lower() == "body"


def _refresh_cookie_named(name: str) -> Any:
    def refresh_cookie(
        token: Annotated[
            str | None,
            CookieParameter(
                name=name,
                description="The refresh token (HttpOnly cookie set by register, login and "
                "refresh); or send it as `refresh_token` in the JSON body.",
            ),
        ] = None,
    ) -> str | None:
        return token or None

    return refresh_cookie
