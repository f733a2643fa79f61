"""The provider's discovery document (OpenID Connect Discovery 1.0), fetched once."""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass
from typing import Any

from domain.errors import IdentityProviderUnavailable
from infrastructure.oauth.transport import ProviderHttp, require_tls

_WELL_KNOWN = "/.well-known/openid-configuration"

_log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class Discovery:
    issuer: str
    authorization_endpoint: str
    token_endpoint: str
    jwks_uri: str


class DiscoveryCache:
    """Fetches the document on first use and keeps it; a failed fetch is not kept."""

    def __init__(self, http: ProviderHttp, url: str) -> None:
        self._http = http
        self._url = require_tls(url, "discovery_url")
        self._discovery: Discovery | None = None
        self._lock = asyncio.Lock()

    async def get(self) -> Discovery:
        if self._discovery is not None:
            return self._discovery
        async with self._lock:
            if self._discovery is None:
                self._discovery = await self._fetch()
            return self._discovery

    async def _fetch(self) -> Discovery:
        response = await self._http.get("discovery document", self._url)
        try:
            discovery = _parse(response.json())
        except ValueError as exc:
            _log.warning("%s discovery document rejected: %s", self._http.name, exc)
            raise IdentityProviderUnavailable() from exc
        # OpenID Connect Discovery §4.3: the issuer must be the URL the document was
        # fetched under, or the document must not be used (an impersonation guard).
        if self._url.endswith(_WELL_KNOWN) and (
            discovery.issuer.rstrip("/") + _WELL_KNOWN != self._url
        ):
            _log.warning(
                "%s discovery document names issuer %r, not the one at %s",
                self._http.name,
                discovery.issuer,
                self._url,
            )
            raise IdentityProviderUnavailable()
        return discovery


def _parse(body: Any) -> Discovery:
    if not isinstance(body, dict):
        raise ValueError("not a JSON object")
    return Discovery(
        issuer=_string(body, "issuer"),
        authorization_endpoint=require_tls(
            _string(body, "authorization_endpoint"), "authorization_endpoint"
        ),
        token_endpoint=require_tls(_string(body, "token_endpoint"), "token_endpoint"),
        jwks_uri=require_tls(_string(body, "jwks_uri"), "jwks_uri"),
    )


def _string(body: dict[str, Any], field: str) -> str:
    value = body.get(field)
    if not isinstance(value, str) or not value:
        raise ValueError(f"{field} is missing")
    return value
