"""Opening a Valkey client, and what every Valkey adapter here shares.

Times are integer microseconds since the epoch, always the caller's ``now``: expiry is
decided by comparing them, never by Valkey's clock (a rotation's deadline alone is set on
Valkey's clock: ``deadline.py``). TTLs only collect garbage, with slack.
Clients must return bytes (``decode_responses=False``, as from ``open_valkey``): one-time
values are binary.
"""

from __future__ import annotations

import os
import traceback
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from typing import Any, Final, TypeAlias, cast
from urllib.parse import urlunsplit

from valkey.asyncio import Valkey, ValkeyCluster
from valkey.asyncio.cluster import ClusterNode
from valkey.asyncio.connection import ConnectCallbackT
from valkey.asyncio.sentinel import Sentinel
from valkey.commands.core import AsyncScript
from valkey.exceptions import ValkeyClusterException, ValkeyError

from domain.errors import StorageUnavailable
from infrastructure.grants.valkey.urls import (
    CLUSTER_SCHEMES,
    SentinelUrl,
    cluster_nodes,
    cluster_url,
    host_port,
    parse_sentinel_url,
    parse_valkey_url,
    split_authority,
)

ValkeyClient: TypeAlias = Valkey | ValkeyCluster


GC_SLACK_MS: Final = 3_600_000  # keys outlive what they record by an hour


MICROSECOND: Final = timedelta(microseconds=1)


_EPOCH: Final = datetime(1970, 1, 1, tzinfo=UTC)


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
        scheme=CLUSTER_SCHEMES[parts.scheme], netloc=f"{credentials}{at}{host_port(host, port)}"
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
    except (AttributeError, TypeError) as e:
        # valkey-py's asyncio connection, torn down by a concurrent disconnect while a
        # command is written (the server went away: a restart, a failover), leaks its
        # cleared writer as one of these (redis-py #3546, fixed there by redis-py #4288).
        # The server is gone, not a bug here: 503, as for any connection error.
        if _raised_in_valkey_connection(e):
            raise StorageUnavailable(backend="grants") from e
        raise


def _raised_in_valkey_connection(error: BaseException) -> bool:
    frames = traceback.extract_tb(error.__traceback__)
    return bool(frames) and frames[-1].filename.endswith(_VALKEY_CONNECTION)


_VALKEY_CONNECTION = os.path.join("valkey", "asyncio", "connection.py")


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
