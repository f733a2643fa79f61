"""The same-origin guard of every endpoint that sets or reads the refresh cookie."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from litestar.connection import ASGIConnection
from litestar.handlers import BaseRouteHandler

from infrastructure.config import Settings
from interfaces.http.errors import FOREIGN_ORIGIN


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
