"""Posts a webhook over HTTP, refusing targets inside the network (SSRF).

OWASP SSRF Prevention Cheat Sheet ("Case 2: the application can send requests to ANY
external IP address or domain name"): the name is resolved here, at delivery time, every
address it resolves to must be public, and the request goes to the checked address itself
(the name kept for the Host header, SNI and the certificate check), so a second, rebound
DNS answer is never asked. Redirects are not followed (httpx's default): a 3xx is a failure.
"""

from __future__ import annotations

import asyncio
import ipaddress
import socket
from urllib.parse import urlsplit, urlunsplit

import httpx

from domain.ports import WebhookRefused, WebhookTransport, WebhookUnreachable

Address = ipaddress.IPv4Address | ipaddress.IPv6Address


def _internal(address: Address) -> bool:
    return not address.is_global or address.is_multicast


class HttpWebhookTransport(WebhookTransport):
    """``allow_http``: plain ``http://`` and loopback targets (tests, a local receiver);
    ``allow_private``: private, loopback and link-local targets over HTTPS."""

    def __init__(
        self,
        client: httpx.AsyncClient,
        *,
        allow_http: bool,
        allow_private: bool,
        timeout: float = 10.0,
    ) -> None:
        self._client = client
        self._allow_http = allow_http
        self._allow_private = allow_private
        self._timeout = timeout

    async def post(self, url: str, headers: dict[str, str], body: bytes) -> int:
        parts = urlsplit(url)
        host = parts.hostname
        if host is None or parts.scheme not in ("https", "http"):
            raise WebhookRefused("refused: not an http(s) URL")
        address = await self._checked_address(host, parts.port, parts.scheme)
        pinned = f"[{address}]" if address.version == 6 else str(address)
        if parts.port is not None:
            pinned += f":{parts.port}"
        try:
            # A receiver that hangs costs ``timeout`` seconds in all, never more.
            async with asyncio.timeout(self._timeout):
                response = await self._client.post(
                    urlunsplit(parts._replace(netloc=pinned)),
                    content=body,
                    headers={**headers, "Host": parts.netloc.rpartition("@")[2]},
                    extensions={"sni_hostname": host},
                    timeout=self._timeout,
                )
        except (TimeoutError, httpx.TimeoutException) as e:
            raise WebhookUnreachable("timeout") from e
        except httpx.HTTPError as e:
            raise WebhookUnreachable(f"unreachable: {type(e).__name__}") from e
        return response.status_code

    async def _checked_address(self, host: str, port: int | None, scheme: str) -> Address:
        try:
            infos = await asyncio.get_running_loop().getaddrinfo(
                host, port or (443 if scheme == "https" else 80), type=socket.SOCK_STREAM
            )
        except OSError as e:
            raise WebhookUnreachable("unresolvable") from e
        addresses = [ipaddress.ip_address(info[4][0]) for info in infos]
        if not addresses:
            raise WebhookUnreachable("unresolvable")
        loopback = all(a.is_loopback for a in addresses)
        if scheme == "http" and not (self._allow_http and loopback):
            raise WebhookRefused("refused: http is allowed to loopback only")
        if any(_internal(a) for a in addresses) and not (
            self._allow_private or (self._allow_http and loopback)
        ):
            raise WebhookRefused("refused: resolves to an internal address")
        return addresses[0]
