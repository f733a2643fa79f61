"""Opening a Valkey client, and what every Valkey adapter here shares.

Times are integer microseconds since the epoch, always the caller's ``now``: expiry is
decided by comparing them, never by Valkey's clock. TTLs only collect garbage, with slack.
Clients must return bytes (``decode_responses=False``, as from ``open_valkey``): one-time
values are binary.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, Final, cast
from urllib.parse import parse_qsl, unquote, urlencode, urlsplit, urlunsplit

from valkey.asyncio import Valkey
from valkey.asyncio.sentinel import Sentinel
from valkey.exceptions import ValkeyError

from domain.errors import StorageUnavailable

DEFAULT_PREFIX: Final = "authgate:"
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


def open_valkey(url: str) -> Valkey:
    """A client that fails fast when the server is gone; a ``?prefix=`` is ignored."""
    client_url, _ = parse_valkey_url(url)
    if (sentinel := parse_sentinel_url(client_url)) is not None:
        return open_sentinel_primary(sentinel)
    return cast(
        Valkey,
        Valkey.from_url(
            client_url, socket_connect_timeout=2, socket_timeout=2, health_check_interval=30
        ),
    )


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


def open_sentinel_primary(url: SentinelUrl) -> Valkey:
    """The sentinels are asked for the primary at each new connection (valkey-py's
    ``SentinelConnectionPool``); sentinels and primary get the same fail-fast timeouts."""
    fail_fast: dict[str, Any] = {"socket_connect_timeout": 2, "socket_timeout": 2}
    sentinel = Sentinel(  # type: ignore[no-untyped-call]
        list(url.sentinels),
        sentinel_kwargs=fail_fast,
        **fail_fast,
        health_check_interval=30,
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
    except (ValkeyError, OSError) as e:  # ConnectionError/TimeoutError are ValkeyErrors
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
