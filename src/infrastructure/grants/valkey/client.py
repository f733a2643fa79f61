"""Opening a Valkey client, and what every Valkey adapter here shares.

Times are integer microseconds since the epoch, always the caller's ``now``: expiry is
decided by comparing them, never by Valkey's clock. TTLs only collect garbage, with slack.
Clients must return bytes (``decode_responses=False``, as from ``open_valkey``): one-time
values are binary.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from typing import Final, cast
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from valkey.asyncio import Valkey
from valkey.asyncio.connection import ConnectCallbackT
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


def open_valkey(url: str, *, on_connect: ConnectCallbackT | None = None) -> Valkey:
    """A client that fails fast when the server is gone; a ``?prefix=`` is ignored.
    ``on_connect`` replaces the connection's own setup (and must call it): see ``epoch``."""
    client_url, _ = parse_valkey_url(url)
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
