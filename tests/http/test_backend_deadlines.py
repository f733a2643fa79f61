"""Every backend call has a deadline: whatever a backend does (refuses, resets, accepts and
stays silent, answers slowly), a request that needs it gets its 503 problem within the
bound, never a 500 and never a long wait. PostgreSQL: a transaction, all of it (connection,
statements, commit or rollback, release), within AUTH_DATABASE_STATEMENT_TIMEOUT plus a
second. Valkey: a command within its 2 s."""

from __future__ import annotations

import time
from collections.abc import Awaitable
from dataclasses import replace
from typing import Any

import pytest
from litestar.testing import AsyncTestClient

from infrastructure.config import Settings
from infrastructure.persistence.postgres import DEADLINE_MARGIN
from interfaces.http.app import create_app
from tests.fakes.clock import FakeClock
from tests.http.conftest import BASE_URL, through
from tests.http.helpers import PASSWORD, assert_problem, bearer, register
from tests.servers.proxy import CuttableProxy

pytestmark = pytest.mark.backends

STATEMENT_TIMEOUT = 1.0
VALKEY_TIMEOUT = 2.0
# What a loaded two-core machine may add to a bound (scheduling, the app's own work).
SLACK = 1.5


def fail(proxy: CuttableProxy, fault: str) -> None:
    if fault == "refuses":
        proxy.cut()
    elif fault == "stays silent":
        proxy.freeze()
    else:  # answers slowly: a round trip takes a second
        proxy.slow(0.5)


def login(client: AsyncTestClient[Any]) -> Awaitable[Any]:
    return client.post("/auth/login", json={"email": "user@site.com", "password": PASSWORD})


async def timed(request: Awaitable[Any]) -> tuple[Any, float]:
    started = time.monotonic()
    answer = await request
    return answer, time.monotonic() - started


@pytest.fixture
def bounded(production: Settings, proxies: dict[str, CuttableProxy]) -> Settings:
    return replace(
        production,
        database_statement_timeout=STATEMENT_TIMEOUT,
        database_url=through(proxies["database"], production.database_url),
        grants_url=through(proxies["grants"], production.grants_url),
    )


@pytest.mark.parametrize("fault", ["refuses", "stays silent", "answers slowly"])
async def test_a_request_needing_postgres_is_answered_503_within_its_deadline(
    bounded: Settings,
    proxies: dict[str, CuttableProxy],
    clock: FakeClock,
    fault: str,
) -> None:
    async with AsyncTestClient(create_app(bounded, clock=clock), base_url=BASE_URL) as client:
        body = await register(client)
        fail(proxies["database"], fault)
        # The first on a pooled connection, the next on new ones.
        answers = [
            await timed(login(client)),
            await timed(login(client)),
            await timed(client.get("/auth/sessions", headers=bearer(body["access_token"]))),
            await timed(
                client.post("/auth/register", json={"email": "b@site.com", "password": PASSWORD})
            ),
        ]
        proxies["database"].restore()
        again = await login(client)

    print(f"PostgreSQL {fault}: 503 after", [round(seconds, 2) for _, seconds in answers])
    for answer, seconds in answers:
        assert_problem(answer, 503, "service_unavailable")
        assert seconds < STATEMENT_TIMEOUT + DEADLINE_MARGIN + SLACK
    assert again.status_code == 200


async def test_a_request_needing_a_silent_valkey_is_answered_503_within_its_deadline(
    bounded: Settings,
    proxies: dict[str, CuttableProxy],
    clock: FakeClock,
) -> None:
    async with AsyncTestClient(create_app(bounded, clock=clock), base_url=BASE_URL) as client:
        body = await register(client)
        proxies["grants"].freeze()
        answers = [
            await timed(client.post("/auth/refresh")),
            await timed(client.get("/auth/me", headers=bearer(body["access_token"]))),
            await timed(login(client)),
        ]
        proxies["grants"].restore()
        again = await client.post("/auth/refresh")

    print("Valkey stays silent: 503 after", [round(seconds, 2) for _, seconds in answers])
    for answer, seconds in answers:
        assert_problem(answer, 503, "service_unavailable")
        assert seconds < VALKEY_TIMEOUT + SLACK
    assert again.status_code == 200
