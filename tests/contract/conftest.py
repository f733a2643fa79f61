"""Adapters under contract: one fixture per port, parametrised over adapter names.

To add an adapter, append its name to the list and add one ``if name == ...`` branch.
Adapters that need a server are marked ``backends`` and ask for it lazily, so the memory
tests never start one.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from valkey.asyncio import Valkey

from domain.ports import OneTimeStore, RateLimiter, RefreshGrantStore
from infrastructure.grants.memory import MemoryGrantStore, MemoryOneTimeStore, MemoryRateLimiter
from infrastructure.grants.sql import SqlGrantStore, SqlOneTimeStore, SqlRateLimiter
from infrastructure.grants.valkey import (
    ValkeyGrantStore,
    ValkeyOneTimeStore,
    ValkeyRateLimiter,
    open_valkey,
    parse_valkey_url,
)
from infrastructure.persistence.database import Database
from tests.backends import run_token
from tests.contract.sql import sql_database

GRANT_STORES = ["memory", "sqlite", "postgres", "valkey"]
KEYED_STORES = ["memory", "sqlite", "postgres", "valkey"]
NEEDS_A_SERVER = {"valkey", "postgres"}


def adapters(names: list[str]) -> list[Any]:
    return [
        pytest.param(name, marks=pytest.mark.backends) if name in NEEDS_A_SERVER else name
        for name in names
    ]


@dataclass
class ValkeyBackend:
    url: str  # for the client, without ?prefix=
    run_prefix: str
    client: Valkey  # shared by the tests
    others: list[Valkey] = field(default_factory=list)

    def another_client(self) -> Valkey:
        """A client with its own connection pool, as another process would have."""
        self.others.append(open_valkey(self.url))
        return self.others[-1]

    def fresh_prefix(self) -> str:
        """A namespace of one test, inside this run's prefix (so the run's cleanup gets it)."""
        return f"{self.run_prefix}{run_token()}:"


@pytest.fixture(scope="session")
async def valkey_backend(valkey_server_url: str) -> AsyncIterator[ValkeyBackend]:
    """Clients on the run's server (``tests/conftest.py``), closed at the end of the run."""
    client_url, prefix = parse_valkey_url(valkey_server_url)
    backend = ValkeyBackend(client_url, prefix, open_valkey(client_url))
    try:
        yield backend
    finally:
        for client in [backend.client, *backend.others]:
            await client.aclose()


def _valkey(request: pytest.FixtureRequest) -> ValkeyBackend:
    backend: ValkeyBackend = request.getfixturevalue("valkey_backend")
    return backend


@pytest.fixture
async def sqlite_db(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Database]:
    async with sql_database("sqlite", request, tmp_path) as database:
        yield database


@pytest.fixture
async def postgres_db(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Database]:
    async with sql_database("postgres", request, tmp_path) as database:
        yield database


def _sql(request: pytest.FixtureRequest, name: str) -> Database:
    database: Database = request.getfixturevalue(f"{name}_db")
    return database


# The port fixtures are sync so they can ask for the async session backend lazily.


@pytest.fixture(params=adapters(GRANT_STORES))
def grant_store(request: pytest.FixtureRequest) -> RefreshGrantStore:
    name: str = request.param
    if name == "memory":
        return MemoryGrantStore()
    if name in ("sqlite", "postgres"):
        return SqlGrantStore(_sql(request, name))
    if name == "valkey":
        backend = _valkey(request)
        return ValkeyGrantStore(backend.client, backend.fresh_prefix())
    raise LookupError(f"no grant store adapter {name!r}")


@pytest.fixture(params=adapters(KEYED_STORES))
def one_time_store(request: pytest.FixtureRequest) -> OneTimeStore:
    name: str = request.param
    if name == "memory":
        return MemoryOneTimeStore()
    if name in ("sqlite", "postgres"):
        return SqlOneTimeStore(_sql(request, name))
    if name == "valkey":
        backend = _valkey(request)
        return ValkeyOneTimeStore(backend.client, backend.fresh_prefix())
    raise LookupError(f"no one-time store adapter {name!r}")


@pytest.fixture(params=adapters(KEYED_STORES))
def rate_limiters(request: pytest.FixtureRequest) -> Callable[[], RateLimiter]:
    """Each call: another limiter instance on the same backing store and namespace."""
    name: str = request.param
    if name == "memory":
        limiter = MemoryRateLimiter()
        return lambda: limiter  # in one process the instance is the backing store
    if name in ("sqlite", "postgres"):
        database = _sql(request, name)
        return lambda: SqlRateLimiter(database)
    if name == "valkey":
        backend = _valkey(request)
        prefix = backend.fresh_prefix()
        return lambda: ValkeyRateLimiter(backend.another_client(), prefix)
    raise LookupError(f"no rate limiter adapter {name!r}")


@pytest.fixture
def rate_limiter(rate_limiters: Callable[[], RateLimiter]) -> RateLimiter:
    return rate_limiters()
