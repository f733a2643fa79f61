"""How tokens and client facts travel over HTTP: cookies, body transport, IPs, origins."""

from __future__ import annotations

import ipaddress
from typing import Any
from urllib.parse import urlsplit

import msgspec
from litestar import Request, Response
from litestar.datastructures import Cookie

from application.client import ClientInfo
from application.session_issuer import IssuedTokens
from domain.entities import User
from infrastructure.config import Settings
from interfaces.http.bodies import TokenBody, UserBody
from interfaces.http.errors import ProblemError

BODY_TRANSPORT_HEADER = "x-auth-transport"
MAX_USER_AGENT = 512


def wants_body_transport(request: Request[Any, Any, Any]) -> bool:
    return request.headers.get(BODY_TRANSPORT_HEADER, "").strip().lower() == "body"


def token_response(
    request: Request[Any, Any, Any],
    settings: Settings,
    tokens: IssuedTokens,
    *,
    user: User | None = None,
    status: int = 200,
) -> Response[TokenBody]:
    in_body = wants_body_transport(request)
    body = TokenBody(
        access_token=tokens.access_token,
        expires_in=tokens.expires_in,
        user=UserBody.of(user) if user else msgspec.UNSET,
        refresh_token=tokens.refresh_token if in_body else msgspec.UNSET,
        refresh_expires_in=tokens.refresh_expires_in if in_body else msgspec.UNSET,
    )
    cookies = (
        []
        if in_body
        else [refresh_cookie(settings, tokens.refresh_token, tokens.refresh_expires_in)]
    )
    # RFC 6749 §5.1: token responses must not be cached.
    return Response(
        body,
        status_code=status,
        cookies=cookies,
        headers={"Cache-Control": "no-store", "Pragma": "no-cache"},
    )


def refresh_cookie(settings: Settings, value: str, max_age: int) -> Cookie:
    # OWASP ASVS V3.4: HttpOnly so scripts never see it, Secure, SameSite, narrow Path.
    return Cookie(
        key=settings.cookie_name,
        value=value,
        max_age=max_age,
        path=settings.cookie_path,
        secure=settings.cookie_secure,
        httponly=True,
        samesite=settings.cookie_samesite,
    )


def cleared_cookie(settings: Settings) -> Cookie:
    return refresh_cookie(settings, "", 0)


def client_info(request: Request[Any, Any, Any], settings: Settings) -> ClientInfo:
    agent = request.headers.get("user-agent")
    return ClientInfo(
        ip_address=client_ip(request, settings),
        user_agent=agent[:MAX_USER_AGENT] if agent else None,
    )


def client_ip(request: Request[Any, Any, Any], settings: Settings) -> str | None:
    """The peer address, or the nearest untrusted hop of X-Forwarded-For when the peer is one
    of AUTH_TRUSTED_PROXIES (OWASP: never believe a client-supplied forwarding header)."""
    peer = request.client.host if request.client else None
    if peer is None or not _trusted(peer, settings):
        return peer
    hops = [h.strip() for h in request.headers.get("x-forwarded-for", "").split(",") if h.strip()]
    for hop in reversed(hops):
        if not _is_ip(hop):
            return peer
        if not _trusted(hop, settings):
            return hop
    return hops[0] if hops else peer


def _is_ip(value: str) -> bool:
    try:
        ipaddress.ip_address(value)
    except ValueError:
        return False
    return True


def _trusted(address: str, settings: Settings) -> bool:
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return False
    return any(ip in network for network in settings.trusted_proxies)


def check_origin(request: Request[Any, Any, Any], settings: Settings) -> None:
    """CSRF defence for cookie-authenticated endpoints (OWASP CSRF Cheat Sheet: verify the
    Origin header): a foreign Origin is refused; no Origin at all is a non-browser client."""
    origin = request.headers.get("origin")
    if origin is None:
        return
    origin = origin.rstrip("/")
    own = {_origin_of(str(request.base_url)), _origin_of(settings.issuer)}
    if origin not in own and origin not in settings.allowed_origins:
        raise ProblemError(403, "origin_not_allowed", "Requests from this origin are not allowed.")


def _origin_of(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}"


def bearer_token(request: Request[Any, Any, Any]) -> str | None:
    scheme, _, token = request.headers.get("authorization", "").partition(" ")
    return token.strip() or None if scheme.lower() == "bearer" else None
