"""Valkey URLs: a single server's, a cluster's node list, Sentinel's, each with an optional
``?prefix=`` for the keys."""

from __future__ import annotations

import ipaddress
import re
from dataclasses import dataclass
from typing import Final
from urllib.parse import SplitResult, parse_qsl, unquote, urlencode, urlsplit, urlunsplit

DEFAULT_PREFIX: Final = "authgate:"


# valkey+cluster://h1:p1,h2:p2 (and valkeys+, redis+, rediss+): the scheme of one node.
CLUSTER_SCHEMES: Final = {f"{s}+cluster": s for s in ("valkey", "valkeys", "redis", "rediss")}


# One node of a list: a name or an IPv4 address, or an IPv6 address in brackets; a port.
_NODE: Final = re.compile(
    r"(?:\[(?P<ip6>[0-9A-Fa-f:.]+)\]|(?P<host>[A-Za-z0-9._-]+))(?::(?P<port>\d{1,5}))?"
)


def split_authority(url: str) -> tuple[SplitResult, str]:
    """``urlsplit(url)`` with an empty netloc, and the netloc: ``[user:pass@]h1:p1,h2:p2`` in
    a cluster or Sentinel URL. A list of hosts never goes to ``urlsplit``: Pythons with the
    fix for CVE-2025-0938 (Debian 12's 3.11.2, 3.12.9, 3.13.2 and later) take a ``[`` only
    at the start of the host and a ``:`` right after its ``]``, so ``a:7000,[::1]:7001`` and
    ``[::1],[::2]`` are an "Invalid IPv6 URL" there and not elsewhere."""
    scheme, sep, rest = url.partition("://")
    end = min((i for i in map(rest.find, "/?#") if i >= 0), default=len(rest))
    return urlsplit(f"{scheme}{sep}{rest[end:]}"), rest[:end]


def parse_valkey_url(url: str) -> tuple[str, str]:
    """Split ``?prefix=`` off a Valkey URL: (URL for the client, key prefix)."""
    parts, authority = split_authority(url)
    query = parse_qsl(parts.query, keep_blank_values=True)
    prefixes = [value for name, value in query if name == "prefix"]
    if not prefixes:
        return url, DEFAULT_PREFIX
    rest = urlencode([(name, value) for name, value in query if name != "prefix"])
    return urlunsplit(parts._replace(netloc=authority, query=rest)), prefixes[0]


def parse_nodes(authority: str, default_port: int, kind: str) -> tuple[tuple[str, int], ...]:
    """The (host, port) of each node of ``[user:pass@]host[:port],host[:port]``, an IPv6
    host without its brackets; a ValueError names the first node that is not one."""
    nodes = []
    for text in authority.rpartition("@")[2].split(","):
        if (node := _node(text, default_port)) is None:
            raise ValueError(
                f"{kind} node {text!r} is not host[:port] (a port from 1 to 65535;"
                " an IPv6 address in brackets)"
            )
        nodes.append(node)
    return tuple(nodes)


def _node(text: str, default_port: int) -> tuple[str, int] | None:
    found = _NODE.fullmatch(text)
    port = int(found["port"] or default_port) if found else 0
    if found is None or not 1 <= port <= 65535:
        return None
    if found["ip6"] is None:
        return found["host"], port
    try:
        ipaddress.IPv6Address(found["ip6"])
    except ValueError:
        return None
    return found["ip6"], port


def host_port(host: str, port: int) -> str:
    return f"[{host}]:{port}" if ":" in host else f"{host}:{port}"


def valkey_where(url: str) -> str:
    """What a Valkey URL names, for a message: no credentials, no options."""
    client_url, _ = parse_valkey_url(url)
    if (sentinel := parse_sentinel_url(client_url)) is not None:
        return sentinel.where()
    parts, authority = split_authority(client_url)
    if parts.scheme in CLUSTER_SCHEMES:
        return f"Valkey Cluster at {authority.rpartition('@')[2]}"
    where = urlsplit(client_url)
    return f"Valkey at {where.hostname}:{where.port or 6379}"


def cluster_url(url: str) -> bool:
    return split_authority(url)[0].scheme in CLUSTER_SCHEMES


def cluster_nodes(url: str) -> list[tuple[str, int]]:
    """The startup nodes of a ``valkey+cluster://[user:pass@]h1:p1,h2:p2[?prefix=]`` URL
    (port 6379 when left out); a ValueError says what is wrong with it."""
    parts, authority = split_authority(url)
    if parts.path not in ("", "/"):
        raise ValueError("a Valkey Cluster has database 0 only: no /path after the nodes")
    _, prefix = parse_valkey_url(url)
    if "{" in prefix or "}" in prefix:
        # Valkey hashes only the part between braces: a braced prefix would put every key
        # on one node.
        raise ValueError(f"the ?prefix= of a cluster may not contain {{ or }}: {prefix!r}")
    return list(parse_nodes(authority, 6379, "cluster"))


SENTINEL_SCHEMES: Final = ("valkey+sentinel", "redis+sentinel")


SENTINEL_PORT: Final = 26379


@dataclass(frozen=True, slots=True)
class SentinelUrl:
    sentinels: tuple[tuple[str, int], ...]
    service: str  # the name the sentinels monitor the primary under
    db: int = 0
    username: str | None = None
    password: str | None = None  # of the primary and its replicas, not of the sentinels

    def where(self) -> str:
        nodes = ",".join(host_port(host, port) for host, port in self.sentinels)
        return f"the Valkey primary {self.service!r} of the sentinels at {nodes}"


def parse_sentinel_url(url: str) -> SentinelUrl | None:
    """The parts of a Sentinel URL; None for any other scheme; ValueError when malformed."""
    parts, authority = split_authority(url)
    if parts.scheme not in SENTINEL_SCHEMES:
        return None
    username, _, password = authority.rpartition("@")[0].partition(":")
    sentinels = parse_nodes(authority, SENTINEL_PORT, "sentinel")
    if parts.query:
        raise ValueError(f"a Sentinel URL takes no options but ?prefix=, not ?{parts.query}")
    service, _, db = parts.path.strip("/").partition("/")
    if not service or not (db == "" or db.isdigit()):
        raise ValueError(f"a Sentinel URL ends in /<service>[/<db>], not {parts.path!r}")
    return SentinelUrl(
        sentinels,
        unquote(service),
        int(db or 0),
        unquote(username) or None,
        unquote(password) or None,
    )
