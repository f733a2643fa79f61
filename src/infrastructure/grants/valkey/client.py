"""Opening a Valkey client, and what every Valkey adapter here shares.

Times are integer microseconds since the epoch, always the caller's ``now``: expiry is
decided by comparing them, never by Valkey's clock (a rotation's deadline alone is set on
Valkey's clock: ``deadline.py``). TTLs only collect garbage, with slack.
Clients must return bytes (``decode_responses=False``, as from ``open_valkey``): one-time
values are binary.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, Final, TypeAlias, cast
from urllib.parse import SplitResult, parse_qsl, unquote, urlencode, urlsplit, urlunsplit

from valkey.asyncio import Valkey, ValkeyCluster
from valkey.asyncio.cluster import ClusterNode
from valkey.asyncio.connection import ConnectCallbackT
from valkey.asyncio.sentinel import Sentinel
from valkey.commands.core import AsyncScript
from valkey.exceptions import ValkeyClusterException, ValkeyError

from domain.errors import StorageUnavailable

ValkeyClient: TypeAlias = Valkey | ValkeyCluster

DEFAULT_PREFIX: Final = "authgate:"
# valkey+cluster://h1:p1,h2:p2 (and valkeys+, redis+, rediss+): the scheme of one node.
_CLUSTER_SCHEMES: Final = {f"{s}+cluster": s for s in ("valkey", "valkeys", "redis", "rediss")}
# One node of a list: a name or an IPv4 address, or an IPv6 address in brackets; a port.
_NODE: Final = re.compile(
    r"(?:\[(?P<ip6>[0-9A-Fa-f:.]+)\]|(?P<host>[A-Za-z0-9._-]+))(?::(?P<port>\d{1,5}))?"
)
GC_SLACK_MS: Final = 3_600_000  # keys outlive what they record by an hour
MICROSECOND: Final = timedelta(microseconds=1)
_EPOCH: Final = datetime(1970, 1, 1, tzinfo=UTC)


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
    if parts.scheme in _CLUSTER_SCHEMES:
        return f"Valkey Cluster at {authority.rpartition('@')[2]}"
    where = urlsplit(client_url)
    return f"Valkey at {where.hostname}:{where.port or 6379}"


def open_valkey(url: str, *, on_connect: ConnectCallbackT | None = None) -> ValkeyClient:
    """A client that fails fast when the server is gone; a ``?prefix=`` is ignored.
    ``on_connect`` replaces a single primary's connection setup (and must call it): see
    ``epoch``. A cluster's connections go to many nodes, so it takes none."""
    client_url, _ = parse_valkey_url(url)
    if cluster_url(client_url):
        if on_connect is not None:
            raise ValueError("a Valkey Cluster client takes no connection setup of its own")
        return _open_cluster(client_url)
    if (sentinel := parse_sentinel_url(client_url)) is not None:
        return open_sentinel_primary(sentinel, on_connect)
    return cast(
        Valkey,
        Valkey.from_url(
            client_url,
            socket_connect_timeout=2,
            socket_timeout=2,
            health_check_interval=30,
            valkey_connect_func=on_connect,
        ),
    )


def cluster_url(url: str) -> bool:
    return split_authority(url)[0].scheme in _CLUSTER_SCHEMES


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


def _open_cluster(url: str) -> ValkeyCluster:
    """The first node's URL carries the credentials, TLS and options of all the others.
    Moved slots are followed; a node that fails or a cluster that is down (a failover) gets
    one retry after a fresh look at the slots, a refused connection none. Measured on the
    test cluster: a stopped primary is an error after 4 s for its keys (two 2 s timeouts);
    an unreachable cluster at once."""
    parts, authority = split_authority(url)
    (host, port), *others = cluster_nodes(url)
    credentials, at, _ = authority.rpartition("@")
    first = parts._replace(
        scheme=_CLUSTER_SCHEMES[parts.scheme], netloc=f"{credentials}{at}{host_port(host, port)}"
    )
    return ValkeyCluster.from_url(
        urlunsplit(first),
        startup_nodes=[ClusterNode(h, p) for h, p in others],
        socket_connect_timeout=2,
        socket_timeout=2,
        health_check_interval=30,
        cluster_error_retry_attempts=1,
        connection_error_retry_attempts=0,
    )


def register_script(client: ValkeyClient, source: str) -> AsyncScript:
    """``client.register_script(source)`` for either client: EVALSHA, and SCRIPT LOAD on a
    NOSCRIPT answer (to every primary of a cluster). A cluster routes the call by its keys,
    which must all be in one hash slot. valkey-py types the script's client as the single
    server one, though its code handles a cluster too."""
    return AsyncScript(cast(Valkey, client), source)


# Valkey Sentinel: ``valkey+sentinel://[user:password@]host:port,host:port/service[/db]``.

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


class SentinelPrimary(Valkey):
    """The client of the primary a ``Sentinel`` names, found again after each failover.

    Closing it also closes the clients of the sentinels themselves."""

    sentinels_of: Sentinel

    async def aclose(self, close_connection_pool: bool | None = None) -> None:
        await super().aclose(close_connection_pool)
        for node in self.sentinels_of.sentinels:
            await node.aclose()


def open_sentinel_primary(url: SentinelUrl, on_connect: ConnectCallbackT | None = None) -> Valkey:
    """The sentinels are asked for the primary at each new connection (valkey-py's
    ``SentinelConnectionPool``); sentinels and primary get the same fail-fast timeouts."""
    fail_fast: dict[str, Any] = {"socket_connect_timeout": 2, "socket_timeout": 2}
    sentinel = Sentinel(  # type: ignore[no-untyped-call]
        list(url.sentinels),
        sentinel_kwargs=fail_fast,
        **fail_fast,
        health_check_interval=30,
        valkey_connect_func=on_connect,  # the primary's connections, not the sentinels'
        db=url.db,
        username=url.username,
        password=url.password,
    )
    primary = cast(SentinelPrimary, sentinel.master_for(url.service, valkey_class=SentinelPrimary))
    primary.sentinels_of = sentinel
    return primary


@contextmanager
def storage_errors() -> Iterator[None]:
    try:
        yield
    # ConnectionError/TimeoutError are ValkeyErrors; a cluster with no node reachable is
    # a ValkeyClusterException, which is not.
    except (ValkeyError, ValkeyClusterException, OSError) as e:
        raise StorageUnavailable(backend="grants") from e


def micros(t: datetime) -> int:
    return (t - _EPOCH) // MICROSECOND


def from_micros(us: bytes | str | int) -> datetime:
    return _EPOCH + timedelta(microseconds=int(us))


def text(value: bytes | str) -> str:
    return value.decode() if isinstance(value, bytes) else value


def gc_ttl_ms(until: datetime, now: datetime | None = None) -> int:
    """Garbage-collection TTL. Without a caller's ``now`` the wall clock is only a guess,
    which is fine: the stored timestamp, not the TTL, decides."""
    left = until - (now or datetime.now(UTC))
    return max(left // timedelta(milliseconds=1), 0) + GC_SLACK_MS
