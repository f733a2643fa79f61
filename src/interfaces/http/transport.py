"""How tokens and client facts travel over HTTP: cookies, body transport, IPs, origins."""

from __future__ import annotations

import base64
import binascii
import ipaddress
from typing import Any
from urllib.parse import unquote_plus, urlsplit

import msgspec
from litestar import Response
from litestar.connection import ASGIConnection
from litestar.datastructures import Cookie
from litestar.handlers import BaseRouteHandler

from application.session_issuer import IssuedTokens
from domain.entities import User
from domain.errors import InvalidClient
from infrastructure.config import Settings
from interfaces.http.bodies import TokenBody, UserBody
from interfaces.http.errors import FOREIGN_ORIGIN


def token_response(
    settings: Settings,
    tokens: IssuedTokens,
    *,
    in_body: bool,
    user: User | None = None,
    status: int = 200,
) -> Response[TokenBody]:
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


def client_ip(peer: str | None, forwarded_for: str | None, settings: Settings) -> str | None:
    """The peer address, or the nearest untrusted hop of X-Forwarded-For when the peer is one
    of AUTH_TRUSTED_PROXIES (OWASP: never believe a client-supplied forwarding header)."""
    if peer is None or not _trusted(peer, settings):
        return peer
    hops = [h.strip() for h in (forwarded_for or "").split(",") if h.strip()]
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


async def same_origin(connection: ASGIConnection[Any, Any, Any, Any], _: BaseRouteHandler) -> None:
    """Guard of every endpoint that sets or reads the refresh cookie: a foreign ``Origin`` is
    refused before the body is read; no ``Origin`` at all is a non-browser client.

    OWASP CSRF Prevention Cheat Sheet, "Verifying Origin With Standard Headers", and "Login
    CSRF": register and login are guarded too, or a cross-site form could sign the victim's
    browser into the attacker's account. The provider callback is not: its state cookie is
    its CSRF defence (RFC 9700 §4.7.1)."""
    origin = connection.headers.get("origin")
    if origin is None:
        return
    settings: Settings = connection.app.state.service.settings
    origin = origin.rstrip("/")
    own = {_origin_of(str(connection.base_url)), _origin_of(settings.issuer)}
    if origin not in own and origin not in settings.allowed_origins:
        raise FOREIGN_ORIGIN.error()


def _origin_of(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}"


def basic_credentials(authorization: str | None) -> tuple[str, str]:
    """Client id and secret from ``Authorization: Basic …`` (RFC 7617), each form-decoded as
    RFC 6749 §2.3.1 has clients encode them; anything else is ``InvalidClient``."""
    scheme, _, encoded = (authorization or "").partition(" ")
    if scheme.lower() != "basic":
        raise InvalidClient()
    try:
        decoded = base64.b64decode(encoded.strip(), validate=True).decode("utf-8")
    except (binascii.Error, UnicodeDecodeError) as e:
        raise InvalidClient() from e
    client_id, colon, secret = decoded.partition(":")
    if not colon:
        raise InvalidClient()
    return unquote_plus(client_id), unquote_plus(secret)
