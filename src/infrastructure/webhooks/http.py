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

# IPv6 addresses that carry an IPv4 one, which a translator or tunnel on the way may reach
# (Python counts most of them global): judged by the IPv4 address they carry.
_NAT64 = ipaddress.IPv6Network("64:ff9b::/96")  # RFC 6052, the well-known prefix
_LOCAL_NAT64 = ipaddress.IPv6Network("64:ff9b:1::/48")  # RFC 8215: a network's own translator
_COMPATIBLE = ipaddress.IPv6Network("::/96")  # RFC 4291 §2.5.5.1, deprecated
_TRANSLATED = ipaddress.IPv6Network("::ffff:0:0:0/96")  # RFC 2765 §2.1, SIIT
# Python before 3.11.10 (CVE-2024-4032) counts these global; they are not.
_SITE_LOCAL = ipaddress.IPv6Network("fec0::/10")  # RFC 3879, deprecated, still routed


def _internal(address: Address) -> bool:
    if isinstance(address, ipaddress.IPv6Address):
        if address in _LOCAL_NAT64 or address in _SITE_LOCAL:
            return True
        carried = _carried_ipv4(address)
        if carried is not None and _internal(carried):
            return True
    return not address.is_global or address.is_multicast


def _carried_ipv4(address: ipaddress.IPv6Address) -> ipaddress.IPv4Address | None:
    if address.ipv4_mapped is not None:
        return address.ipv4_mapped
    if address.sixtofour is not None:  # 2002::/16, RFC 3056
        return address.sixtofour
    if address.teredo is not None:  # 2001::/32, RFC 4380: the client's address
        return address.teredo[1]
    if address in _NAT64 or address in _COMPATIBLE or address in _TRANSLATED:
        return ipaddress.IPv4Address(int(address) & 0xFFFF_FFFF)
    return None


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
            # A receiver that hangs costs ``timeout`` seconds in all, never more. Only the
            # status line is read: the answer's body (a decompression bomb, say) never is.
            async with (
                asyncio.timeout(self._timeout),
                self._client.stream(
                    "POST",
                    urlunsplit(parts._replace(netloc=pinned)),
                    content=body,
                    headers={
                        **headers,
                        "Host": parts.netloc.rpartition("@")[2],
                        "Accept-Encoding": "identity",
                    },
                    extensions={"sni_hostname": host},
                    timeout=self._timeout,
                ) as response,
            ):
                return response.status_code
        except (TimeoutError, httpx.TimeoutException) as e:
            raise WebhookUnreachable("timeout") from e
        except (httpx.HTTPError, httpx.InvalidURL) as e:
            raise WebhookUnreachable(f"unreachable: {type(e).__name__}") from e

    async def _checked_address(self, host: str, port: int | None, scheme: str) -> Address:
        try:
            infos = await asyncio.get_running_loop().getaddrinfo(
                host, port or (443 if scheme == "https" else 80), type=socket.SOCK_STREAM
            )
        except (OSError, UnicodeError) as e:  # UnicodeError: a name IDNA cannot encode
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
