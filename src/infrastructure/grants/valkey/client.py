"""Opening a Valkey client, and what every Valkey adapter here shares.

Times are integer microseconds since the epoch, always the caller's ``now``: expiry is
decided by comparing them, never by Valkey's clock (a rotation's deadline alone is set on
Valkey's clock: ``deadline.py``). TTLs only collect garbage, with slack.
Clients must return bytes (``decode_responses=False``, as from ``open_valkey``): one-time
values are binary.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, Final, TypeAlias, cast
from urllib.parse import parse_qsl, unquote, urlencode, urlsplit, urlunsplit

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
_NODE: Final = re.compile(r"(?P<host>\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9._-]+)(?::(?P<port>\d{1,5}))?")
GC_SLACK_MS: Final = 3_600_000  # keys outlive what they record by an hour
MICROSECOND: Final = timedelta(microseconds=1)
_EPOCH: Final = datetime(1970, 1, 1, tzinfo=UTC)


def parse_valkey_url(url: str) -> tuple[str, str]:
    """Split ``?prefix=`` off a Valkey URL: (URL for the client, key prefix)."""
    parts = urlsplit(url)
    query = parse_qsl(parts.query, keep_blank_values=True)
    prefixes = [value for name, value in query if name == "prefix"]
    if not prefixes:
        return url, DEFAULT_PREFIX
    rest = urlencode([(name, value) for name, value in query if name != "prefix"])
    return urlunsplit(parts._replace(query=rest)), prefixes[0]


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
    return urlsplit(url).scheme.lower() in _CLUSTER_SCHEMES


def cluster_nodes(url: str) -> list[tuple[str, int]]:
    """The startup nodes of a ``valkey+cluster://[user:pass@]h1:p1,h2:p2[?prefix=]`` URL
    (port 6379 when left out); a ValueError says what is wrong with it."""
    parts = urlsplit(url)
    if parts.path not in ("", "/"):
        raise ValueError("a Valkey Cluster has database 0 only: no /path after the nodes")
    _, prefix = parse_valkey_url(url)
    if "{" in prefix or "}" in prefix:
        # Valkey hashes only the part between braces: a braced prefix would put every key
        # on one node.
        raise ValueError(f"the ?prefix= of a cluster may not contain {{ or }}: {prefix!r}")
    nodes = []
    for text in parts.netloc.rpartition("@")[2].split(","):
        node = _NODE.fullmatch(text)
        port = int(node["port"] or 6379) if node else 0
        if node is None or not 1 <= port <= 65535:
            raise ValueError(f"cluster node {text!r} is not host:port (a port from 1 to 65535)")
        nodes.append((node["host"].strip("[]"), port))
    return nodes


def _open_cluster(url: str) -> ValkeyCluster:
    """The first node's URL carries the credentials, TLS and options of all the others.
    Moved slots are followed; a node that fails or a cluster that is down (a failover) gets
    one retry after a fresh look at the slots, a refused connection none. Measured on the
    test cluster: a stopped primary is an error after 4 s for its keys (two 2 s timeouts);
    an unreachable cluster at once."""
    parts = urlsplit(url)
    (host, port), *others = cluster_nodes(url)
    credentials, at, _ = parts.netloc.rpartition("@")
    first = parts._replace(
        scheme=_CLUSTER_SCHEMES[parts.scheme.lower()],
        netloc=f"{credentials}{at}{f'[{host}]' if ':' in host else host}:{port}",
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
_SENTINEL_NODE: Final = re.compile(
    r"^(\[(?P<ip6>[0-9A-Fa-f:.]+)\]|(?P<host>[A-Za-z0-9._-]+))(:(?P<port>\d{1,5}))?$"
)


@dataclass(frozen=True, slots=True)
class SentinelUrl:
    sentinels: tuple[tuple[str, int], ...]
    service: str  # the name the sentinels monitor the primary under
    db: int = 0
    username: str | None = None
    password: str | None = None  # of the primary and its replicas, not of the sentinels

    def where(self) -> str:
        nodes = ",".join(f"{host}:{port}" for host, port in self.sentinels)
        return f"the Valkey primary {self.service!r} of the sentinels at {nodes}"


def parse_sentinel_url(url: str) -> SentinelUrl | None:
    """The parts of a Sentinel URL; None for any other scheme; ValueError when malformed."""
    scheme, sep, rest = url.partition("://")
    if not sep or scheme.lower() not in SENTINEL_SCHEMES:
        return None
    parts = urlsplit(f"sentinel://{rest}")
    credentials, _, nodes = parts.netloc.rpartition("@")
    username, _, password = credentials.partition(":")
    sentinels = tuple(_sentinel_node(node) for node in nodes.split(","))
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


def _sentinel_node(node: str) -> tuple[str, int]:
    found = _SENTINEL_NODE.match(node)
    if found is None:
        raise ValueError(f"not a sentinel host[:port]: {node!r}")
    port = int(found["port"] or SENTINEL_PORT)
    if not 0 < port < 65536:
        raise ValueError(f"not a port: {port}")
    return found["ip6"] or found["host"], port


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
