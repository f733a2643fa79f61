"""The app from ``create_app(settings)`` in every deployment, through AsyncTestClient.

The base URL is https so Secure cookies travel. Each test gets an empty database and its
own Valkey key prefix.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from litestar.testing import AsyncTestClient

from infrastructure.config import Settings, load_settings
from interfaces.http.app import create_app
from interfaces.http.backends import migrate
from tests.backends import run_token
from tests.backends.postgres import truncate
from tests.fakes.clock import FakeClock

BASE_URL = "https://testserver.local"
DEPLOYMENTS = [
    "sqlite+database",
    "sqlite+memory",
    pytest.param("postgres+valkey", marks=pytest.mark.backends),
]
Client = AsyncTestClient[Any]


@pytest.fixture(params=DEPLOYMENTS)
async def settings(request: pytest.FixtureRequest, tmp_path: Path) -> Settings:
    return await deployment(request.param, request, tmp_path)


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
