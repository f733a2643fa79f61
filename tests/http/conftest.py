"""The app from ``create_app(settings)`` in every deployment, through AsyncTestClient.

The base URL is https so Secure cookies travel. Each test gets an empty database and its
own Valkey key prefix. A test runs on the embedded deployment, which the quickstart serves;
one marked ``every_deployment`` runs on each (the smoke tests of ``test_deployments`` and the
races, whose outcome is each backend's own locking). The rules themselves are proven over
every adapter in the contract suite.

AsyncTestClient runs the app behind a blocking portal in a thread of its own, and each
request holds the test's event loop until its response is whole: requests gathered on it
reach the app one after another. A test about requests racing each other uses
``concurrent_client``: the same app served on the test's own event loop through
``httpx.ASGITransport``, so requests sent together are in the app together.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from dataclasses import replace
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import httpx
import pytest
from litestar import Litestar
from litestar.testing import AsyncTestClient

from infrastructure.config import Settings, load_settings
from interfaces.bootstrap.backends import migrate
from interfaces.http.app import create_app
from tests.backends import run_token
from tests.backends.postgres import truncate
from tests.fakes.clock import FakeClock
from tests.http.helpers import THIS_TEST
from tests.servers.proxy import CuttableProxy

BASE_URL = "https://testserver.local"
EMBEDDED = "sqlite+database"
DEPLOYMENTS = [
    EMBEDDED,
    "sqlite+memory",
    pytest.param("postgres+valkey", marks=pytest.mark.backends),
]
Client = AsyncTestClient[Any]


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    if "deployment_name" in metafunc.fixturenames:
        every = metafunc.definition.get_closest_marker("every_deployment") is not None
        metafunc.parametrize("deployment_name", DEPLOYMENTS if every else [EMBEDDED])


@pytest.fixture
async def settings(
    deployment_name: str, request: pytest.FixtureRequest, tmp_path: Path
) -> Settings:
    THIS_TEST.settings = await deployment(deployment_name, request, tmp_path)
    return THIS_TEST.settings


async def deployment(name: str, request: pytest.FixtureRequest, tmp_path: Path) -> Settings:
    """Settings of one deployment on empty backends, migrated."""
    env = {"AUTH_KEYS_FILE": str(tmp_path / "jwks.json"), "AUTH_ISSUER": BASE_URL}
    if name.startswith("sqlite"):
        env["AUTH_DATABASE_URL"] = f"sqlite:///{tmp_path / 'authgate.db'}"
        env["AUTH_GRANTS_URL"] = "database" if name.endswith("database") else "memory://"
    else:
        postgres_url: str = request.getfixturevalue("postgres_url")
        fixture = "valkey_cluster_url" if name.endswith("cluster") else "valkey_server_url"
        valkey_url: str = request.getfixturevalue(fixture)
        env["AUTH_DATABASE_URL"] = postgres_url
        env["AUTH_GRANTS_URL"] = f"{valkey_url}{run_token()}:"
    settings = load_settings(env, dotenv=None)
    await migrate(settings)
    if name.startswith("postgres"):
        await truncate(settings.database_url)
    return settings


async def loaded_deployment(tmp_path: Path, grants_url: str, **env: str) -> Settings:
    """Users and sessions in SQLite, grants at ``grants_url``, migrated; the limits raised
    for a load from one client address that refreshes and signs in far more often than a
    person would. ``env``: more AUTH_* settings."""
    settings = load_settings(
        {
            "AUTH_KEYS_FILE": str(tmp_path / "jwks.json"),
            "AUTH_ISSUER": BASE_URL,
            "AUTH_DATABASE_URL": f"sqlite:///{tmp_path / 'authgate.db'}",
            "AUTH_GRANTS_URL": grants_url,
            "AUTH_REFRESH_LIMIT": "100000",
            "AUTH_LOGIN_LIMIT": "1000",
            **env,
        },
        dotenv=None,
    )
    await migrate(settings)
    return settings


@pytest.fixture
async def client(settings: Settings, clock: FakeClock) -> AsyncIterator[Client]:
    async with AsyncTestClient(create_app(settings, clock=clock), base_url=BASE_URL) as c:
        yield c


@pytest.fixture
def make_client(settings: Settings, clock: FakeClock) -> Callable[..., AsyncTestClient[Any]]:
    """Another app instance on the same backends, optionally with changed settings."""

    def make(**changes: Any) -> AsyncTestClient[Any]:
        return AsyncTestClient(
            create_app(replace(settings, **changes), clock=clock), base_url=BASE_URL
        )

    return make


@asynccontextmanager
async def serving(app: Litestar) -> AsyncIterator[httpx.AsyncClient]:
    """``app`` with its lifespan running on this event loop, through ``httpx.ASGITransport``,
    which awaits the app in the caller's task: gathered requests overlap inside it. The client
    address, user agent and redirects are AsyncTestClient's."""
    # Litestar types its ASGI scopes as TypedDicts, httpx as plain mappings: the same protocol.
    transport = httpx.ASGITransport(app=app, client=("testclient", 50000))  # type: ignore[arg-type]
    async with (
        app.lifespan(),
        httpx.AsyncClient(
            transport=transport,
            base_url=BASE_URL,
            headers={"user-agent": "testclient"},
            follow_redirects=True,
        ) as client,
    ):
        yield client


@pytest.fixture
def concurrent_client(
    settings: Settings, clock: FakeClock
) -> Callable[..., AbstractAsyncContextManager[httpx.AsyncClient]]:
    """``make_client``'s app, served so that concurrent requests really are concurrent. A
    context manager, not a client fixture: the lifespan's task group must be left in the
    task that entered it, and pytest-asyncio tears a fixture down in another task."""

    def make(**changes: Any) -> AbstractAsyncContextManager[httpx.AsyncClient]:
        return serving(create_app(replace(settings, **changes), clock=clock))

    return make


# A deployment whose servers can be lost: PostgreSQL and Valkey, each behind a proxy.


def through(proxy: CuttableProxy, url: str) -> str:
    parts = urlsplit(url)
    netloc = parts.netloc.rsplit("@", 1)
    host = f"127.0.0.1:{proxy.port}"
    return urlunsplit(parts._replace(netloc=f"{netloc[0]}@{host}" if len(netloc) == 2 else host))


@pytest.fixture
async def production(request: pytest.FixtureRequest, tmp_path: Path) -> Settings:
    """Only the deployment with servers to lose: PostgreSQL and Valkey."""
    return await deployment("postgres+valkey", request, tmp_path)


@pytest.fixture
def proxies(production: Settings) -> Iterator[dict[str, CuttableProxy]]:
    settings = production
    database, grants = urlsplit(settings.database_url), urlsplit(settings.grants_url)
    with (
        CuttableProxy(database.hostname or "127.0.0.1", database.port or 5432) as db,
        CuttableProxy(grants.hostname or "127.0.0.1", grants.port or 6379) as valkey,
    ):
        yield {"database": db, "grants": valkey}
