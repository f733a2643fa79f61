"""HTTP to one provider: every way it can fail becomes ``IdentityProviderUnavailable``."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass
from typing import NoReturn
from urllib.parse import urlsplit

import httpx

from domain.errors import IdentityProviderUnavailable

_JSON = {"Accept": "application/json"}
_LOOPBACK_HOSTS = frozenset({"127.0.0.1", "::1", "localhost"})

_log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class ProviderHttp:
    client: httpx.AsyncClient
    name: str  # the provider's, for the log
    timeout: float

    async def get(self, what: str, url: str) -> httpx.Response:
        """A 2xx answer, or ``IdentityProviderUnavailable``."""
        try:
            response = await self.client.get(url, headers=_JSON, timeout=self.timeout)
        except httpx.HTTPError as exc:
            self.unreachable(what, exc)
        if not response.is_success:
            self.failed(what, response)
        return response

    async def post_form(self, what: str, url: str, form: Mapping[str, str]) -> httpx.Response:
        """Any answer below 500 (the caller reads an OAuth error from a 4xx), else
        ``IdentityProviderUnavailable``."""
        try:
            response = await self.client.post(
                url, data=dict(form), headers=_JSON, timeout=self.timeout
            )
        except httpx.HTTPError as exc:
            self.unreachable(what, exc)
        if response.is_server_error:
            self.failed(what, response)
        return response

    def unreachable(self, what: str, exc: httpx.HTTPError) -> NoReturn:
        _log.warning("%s %s unreachable: %s", self.name, what, _describe(exc))
        raise IdentityProviderUnavailable() from exc

    def failed(self, what: str, response: httpx.Response) -> NoReturn:
        _log.warning("%s %s answered HTTP %s", self.name, what, response.status_code)
        try:
            response.raise_for_status()
        except httpx.HTTPStatusError as exc:
            raise IdentityProviderUnavailable() from exc
        raise IdentityProviderUnavailable()  # a 2xx answer that is not what we expect


def require_tls(url: str, field: str) -> str:
    # RFC 6749 §3.1-3.2 and OpenID Connect Core §16.17: endpoints over TLS; plain HTTP
    # only on loopback (development and tests).
    parts = urlsplit(url)
    if parts.scheme == "https" and parts.hostname:
        return url
    if parts.scheme == "http" and parts.hostname in _LOOPBACK_HOSTS:
        return url
    raise ValueError(f"{field} must be an https URL: {url!r}")


def _describe(exc: httpx.HTTPError) -> str:
    if isinstance(exc, httpx.HTTPStatusError):
        return f"HTTP {exc.response.status_code}"
    return type(exc).__name__
