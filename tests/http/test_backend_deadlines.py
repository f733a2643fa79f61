"""Every backend call has a deadline: whatever a backend does (refuses, resets, accepts and
stays silent, answers slowly), a request that needs it gets its 503 problem within the
bound, never a 500 and never a long wait. PostgreSQL: a transaction, all of it (connection,
statements, commit or rollback, release), within AUTH_DATABASE_STATEMENT_TIMEOUT plus a
second. Valkey: a command within its 2 s."""

from __future__ import annotations

import json
import re
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


CAUSES = {  # how the outage's first line names its cause
    "refuses": r"\w*(Connection|Reset)\w*Error: \S",  # reset or closed, by asyncio's words
    "stays silent": r"TimeoutError: PostgreSQL: transaction not done within 2 s",
    "answers slowly": r"TimeoutError: PostgreSQL: ",
}


def fail(proxy: CuttableProxy, fault: str) -> None:
    if fault == "refuses":
        proxy.cut()
    elif fault == "stays silent":
        proxy.freeze()
    else:  # answers slowly: a round trip takes a second
        proxy.slow(0.5)


def login(client: AsyncTestClient[Any]) -> Awaitable[Any]:
    return client.post("/auth/login", json={"email": "user@site.com", "password": PASSWORD})


def outage_causes(log: str) -> list[str]:
    lines = [json.loads(line) for line in log.splitlines() if line.startswith("{")]
    return [line["cause"] for line in lines if line["message"] == "backend outage started"]


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
    capsys: pytest.CaptureFixture[str],
) -> None:
    async with AsyncTestClient(create_app(bounded, clock=clock), base_url=BASE_URL) as client:
        body = await register(client)
        fail(proxies["database"], fault)
        # The first on a pooled connection, the next on a new one.
        answers = [
            await timed(login(client)),
            await timed(client.get("/auth/sessions", headers=bearer(body["access_token"]))),
        ]
        proxies["database"].restore()
        again = await login(client)

    causes = outage_causes(capsys.readouterr().out)
    print(f"PostgreSQL {fault}: 503 after", [round(seconds, 2) for _, seconds in answers], causes)
    for answer, seconds in answers:
        assert_problem(answer, 503, "service_unavailable")
        assert seconds < STATEMENT_TIMEOUT + DEADLINE_MARGIN + SLACK
    # The outage's first line says why: the error's type, and what did not finish in time.
    assert re.match(CAUSES[fault], causes[0]), causes
    assert again.status_code == 200


async def test_a_request_needing_a_silent_valkey_is_answered_503_within_its_deadline(
    bounded: Settings,
    proxies: dict[str, CuttableProxy],
    clock: FakeClock,
    capsys: pytest.CaptureFixture[str],
) -> None:
    async with AsyncTestClient(create_app(bounded, clock=clock), base_url=BASE_URL) as client:
        body = await register(client)
        proxies["grants"].freeze()
        answers = [
            await timed(client.post("/auth/refresh")),
            await timed(client.get("/auth/me", headers=bearer(body["access_token"]))),
        ]
        proxies["grants"].restore()
        again = await client.post("/auth/refresh")

    causes = outage_causes(capsys.readouterr().out)
    print("Valkey stays silent: 503 after", [round(seconds, 2) for _, seconds in answers], causes)
    for answer, seconds in answers:
        assert_problem(answer, 503, "service_unavailable")
        assert seconds < VALKEY_TIMEOUT + SLACK
    assert causes[0].startswith("TimeoutError: Timeout reading from"), causes
    assert again.status_code == 200
