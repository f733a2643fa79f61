"""Fixtures shared by every tier: the clock, and the session-wide test backends."""

from __future__ import annotations

import logging
import os
import sys
import threading
from collections.abc import Iterator

import pytest

from tests.backends.postgres import postgres_database
from tests.backends.valkey import valkey_url
from tests.backends.valkey_cluster import valkey_cluster
from tests.fakes.clock import FakeClock

logging.getLogger("httpx").setLevel(logging.WARNING)
# aiosmtpd (the loopback SMTP servers) logs every connection from its own thread, also after
# a test's captured output has closed.
logging.getLogger("mail.log").setLevel(logging.CRITICAL)
_EXIT_STATUS = pytest.StashKey[int]()
# The loopback SMTP server fixture ``smtp``, for every tier.
pytest_plugins = ("tests.servers.smtp",)


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture(scope="session")
def postgres_url() -> Iterator[str]:
    """This run's own PostgreSQL database (requested lazily: SQLite-only tests never ask)."""
    with postgres_database() as url:
        yield url


@pytest.fixture(scope="session")
def valkey_server_url() -> Iterator[str]:
    """A Valkey URL carrying this run's own ``?prefix=``."""
    with valkey_url() as url:
        yield url


@pytest.fixture(scope="session")
def valkey_cluster_url() -> Iterator[str]:
    """A ``valkey+cluster://`` URL of three primaries, carrying this run's own ``?prefix=``."""
    with valkey_cluster() as url:
        yield url


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """The files with a ``slow`` test run first: with ``--dist loadfile`` each process takes
    the next file as it finishes one, so a two-minute file taken last is two minutes with one
    process idle. Files keep their order otherwise, and so do the tests within a file."""
    slow = {item.path for item in items if item.get_closest_marker("slow")}
    items.sort(key=lambda item: item.path not in slow)


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    session.config.stash[_EXIT_STATUS] = int(exitstatus)


def pytest_unconfigure(config: pytest.Config) -> None:
    """An aiosqlite connection left open keeps a non-daemon thread that would hold the
    interpreter at exit forever (a CI run that never ends). Say so loudly and leave with the
    tests' own verdict instead; `test_sqlite_lifecycle.py` pins the close rules."""
    leaked = [
        t
        for t in threading.enumerate()
        if ("connection_worker" in t.name or "sqlite-writer" in t.name) and t.is_alive()
    ]
    if leaked:
        print(f"\nWARNING: {len(leaked)} SQLite connection(s) left open at exit", file=sys.stderr)
        sys.stderr.flush()
        sys.stdout.flush()
        os._exit(config.stash.get(_EXIT_STATUS, 0))
