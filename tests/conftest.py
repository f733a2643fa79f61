"""Fixtures shared by every tier: the clock, and the session-wide test backends."""

from __future__ import annotations

import logging
from collections.abc import Iterator

import pytest

from tests.backends.postgres import postgres_database
from tests.backends.valkey import valkey_url
from tests.fakes.clock import FakeClock

logging.getLogger("httpx").setLevel(logging.WARNING)
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
