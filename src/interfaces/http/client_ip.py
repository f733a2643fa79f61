"""The client's IP address, through the trusted proxies only."""

from __future__ import annotations

import ipaddress

from infrastructure.config import Settings


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
