"""Adapters under contract: one fixture per port, parametrised over adapter names.

To add an adapter, append its name to the list and add one ``if name == ...`` branch.
Adapters that need a server are marked ``backends`` and ask for it lazily, so the memory
tests never start one.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from typing import Any

import pytest
from valkey.asyncio import Valkey

from domain.ports import OneTimeStore, RateLimiter, RefreshGrantStore
from infrastructure.grants.memory import MemoryGrantStore, MemoryOneTimeStore, MemoryRateLimiter
from infrastructure.grants.valkey import (
    ValkeyGrantStore,
    ValkeyOneTimeStore,
    ValkeyRateLimiter,
    open_valkey,
    parse_valkey_url,
)
from tests.backends import run_token
from tests.backends.valkey import valkey_url

GRANT_STORES = ["memory", "valkey"]
KEYED_STORES = ["memory", "valkey"]
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
async def valkey_backend() -> AsyncIterator[ValkeyBackend]:
    with valkey_url() as url:
        client_url, prefix = parse_valkey_url(url)
        backend = ValkeyBackend(client_url, prefix, open_valkey(client_url))
        try:
            yield backend
        finally:
            for client in [backend.client, *backend.others]:
                await client.aclose()


def _valkey(request: pytest.FixtureRequest) -> ValkeyBackend:
    backend: ValkeyBackend = request.getfixturevalue("valkey_backend")
    return backend


# The port fixtures are sync so they can ask for the async session backend lazily.


@pytest.fixture(params=adapters(GRANT_STORES))
def grant_store(request: pytest.FixtureRequest) -> RefreshGrantStore:
    name: str = request.param
    if name == "memory":
        return MemoryGrantStore()
    if name == "valkey":
        backend = _valkey(request)
        return ValkeyGrantStore(backend.client, backend.fresh_prefix())
    raise LookupError(f"no grant store adapter {name!r}")


@pytest.fixture(params=adapters(KEYED_STORES))
def one_time_store(request: pytest.FixtureRequest) -> OneTimeStore:
    name: str = request.param
    if name == "memory":
        return MemoryOneTimeStore()
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
    if name == "valkey":
        backend = _valkey(request)
        prefix = backend.fresh_prefix()
        return lambda: ValkeyRateLimiter(backend.another_client(), prefix)
    raise LookupError(f"no rate limiter adapter {name!r}")


@pytest.fixture
def rate_limiter(rate_limiters: Callable[[], RateLimiter]) -> RateLimiter:
    return rate_limiters()
