"""A backend that is down is a 503 problem, never a 500; readiness names it; the running
service recovers by itself when the backend returns. Nothing is issued half-written."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import AsyncIterator
from dataclasses import replace
from typing import Any

import pytest
from litestar.testing import AsyncTestClient

from infrastructure.config import Settings
from interfaces.http.app import create_app
from interfaces.http.system.routes import CHECK_TIMEOUT
from tests.fakes.clock import FakeClock
from tests.http.conftest import BASE_URL, serving, through
from tests.http.helpers import (
    PASSWORD,
    THIS_TEST,
    assert_problem,
    bearer,
    refresh_with,
    register,
    sign_in,
    sign_up,
    the_refresh_cookie,
)
from tests.http.mfa_helpers import enable_totp, password_step, second_step
from tests.http.scrape import grown, scrape
from tests.servers.proxy import CuttableProxy

pytestmark = pytest.mark.backends


@pytest.fixture
async def proxied(
    production: Settings, proxies: dict[str, CuttableProxy], clock: FakeClock
) -> AsyncIterator[AsyncTestClient[Any]]:
    settings = production
    THIS_TEST.settings = settings
    changed = replace(
        settings,
        database_url=through(proxies["database"], settings.database_url),
        grants_url=through(proxies["grants"], settings.grants_url),
    )
    async with AsyncTestClient(create_app(changed, clock=clock), base_url=BASE_URL) as client:
        yield client


async def ready(client: AsyncTestClient[Any]) -> tuple[int, dict[str, str]]:
    response = await client.get("/health/ready")
    return response.status_code, response.json()["checks"]


async def test_postgres_down_is_503_and_the_service_recovers(
    proxied: AsyncTestClient[Any], proxies: dict[str, CuttableProxy]
) -> None:
    await register(proxied)
    proxies["database"].cut()

    login = await proxied.post("/auth/login", json={"email": "user@site.com", "password": PASSWORD})
    assert_problem(login, 503, "service_unavailable")
    assert "set-cookie" not in login.headers
    assert await ready(proxied) == (503, {"database": "unavailable", "grants": "ok"})

    proxies["database"].restore()
    assert await ready(proxied) == (200, {"database": "ok", "grants": "ok"})
    again = await proxied.post("/auth/login", json={"email": "user@site.com", "password": PASSWORD})
    assert again.status_code == 200


async def test_valkey_down_is_503_no_token_without_its_grant_and_recovery(
    proxied: AsyncTestClient[Any], proxies: dict[str, CuttableProxy]
) -> None:
    body = await register(proxied)
    proxies["grants"].cut()

    login = await proxied.post("/auth/login", json={"email": "user@site.com", "password": PASSWORD})
    assert_problem(login, 503, "service_unavailable")
    assert "set-cookie" not in login.headers
    assert_problem(await proxied.post("/auth/refresh"), 503, "service_unavailable")
    me = await proxied.get("/auth/me", headers=bearer(body["access_token"]))
    assert_problem(me, 503, "service_unavailable")  # the denylist cannot be checked: fail closed
    assert await ready(proxied) == (503, {"database": "ok", "grants": "unavailable"})

    proxies["grants"].restore()
    assert await ready(proxied) == (200, {"database": "ok", "grants": "ok"})
    assert (await proxied.post("/auth/refresh")).status_code == 200
    sessions = await proxied.get("/auth/sessions", headers=bearer(body["access_token"]))
    assert len(sessions.json()["sessions"]) == 1  # the failed login left no device behind


async def test_registering_while_valkey_is_down_leaves_no_account(
    proxied: AsyncTestClient[Any], proxies: dict[str, CuttableProxy]
) -> None:
    proxies["grants"].cut()
    response = await proxied.post(
        "/auth/register", json={"email": "new@site.com", "password": PASSWORD}
    )
    assert_problem(response, 503, "service_unavailable")
    proxies["grants"].restore()
    retry = await proxied.post(
        "/auth/register", json={"email": "new@site.com", "password": PASSWORD}
    )
    assert retry.status_code == 201, retry.text


def outage_settings(production: Settings, proxies: dict[str, CuttableProxy]) -> Settings:
    return replace(
        production,
        database_url=through(proxies["database"], production.database_url),
        grants_url=through(proxies["grants"], production.grants_url),
        outage_log_interval=1,
    )


async def read_until(capsys: pytest.CaptureFixture[str], seen: list[str], message: str) -> None:
    """Collect stdout lines until one carries ``message`` (the outage watch ticks each second)."""
    for _ in range(100):
        seen += capsys.readouterr().out.splitlines()
        if any(json.loads(line)["message"] == message for line in seen):
            return
        await asyncio.sleep(0.1)
    pytest.fail(f"no {message!r} in {seen}")


async def test_an_outage_logs_its_start_a_summary_of_refused_requests_and_its_end(
    production: Settings,
    proxies: dict[str, CuttableProxy],
    clock: FakeClock,
    capsys: pytest.CaptureFixture[str],
) -> None:
    settings = outage_settings(production, proxies)
    seen: list[str] = []
    async with AsyncTestClient(create_app(settings, clock=clock), base_url=BASE_URL) as client:
        await register(client)
        before = await scrape(client)
        proxies["database"].cut()
        for _ in range(5):
            login = await client.post(
                "/auth/login", json={"email": "user@site.com", "password": PASSWORD}
            )
            assert_problem(login, 503, "service_unavailable")
        await read_until(capsys, seen, "backend outage continues")
        proxies["database"].restore()
        await read_until(capsys, seen, "backend outage ended")
        after = await scrape(client)

    lines = [json.loads(line) for line in seen]
    warnings = [line for line in lines if line["level"] == "warning"]
    # None per request; the sender says once that it cannot reach the outboxes.
    assert all(line["logger"] in ("authgate.outage", "authgate.outbox") for line in warnings)
    assert len([line for line in warnings if line["logger"] == "authgate.outbox"]) <= 1
    warnings = [line for line in warnings if line["logger"] == "authgate.outage"]
    assert warnings[0]["message"] == "backend outage started"
    assert warnings[0]["backend"] == "database"
    assert warnings[-1]["message"] == "backend outage ended"
    assert warnings[-1]["refused_total"] == 5
    summaries = [line for line in warnings if line["message"] == "backend outage continues"]
    assert sum(line["refused"] for line in summaries) == 5
    assert grown(before, after, "authgate_backend_errors_total", backend="database") == 5
    assert len([line for line in lines if line.get("status") == 503]) == 5  # the request lines


async def test_a_valkey_outage_is_counted_under_grants(
    proxied: AsyncTestClient[Any], proxies: dict[str, CuttableProxy]
) -> None:
    before = await scrape(proxied)
    proxies["grants"].cut()
    assert_problem(
        await refresh_with(proxied, "x" * 43),
        503,
        "service_unavailable",
    )
    proxies["grants"].restore()
    after = await scrape(proxied)
    assert grown(before, after, "authgate_backend_errors_total", backend="grants") == 1


async def test_readiness_answers_within_its_timeout_when_postgres_goes_silent(
    proxied: AsyncTestClient[Any], proxies: dict[str, CuttableProxy]
) -> None:
    assert await ready(proxied) == (200, {"database": "ok", "grants": "ok"})
    proxies["database"].freeze()  # connections stay open, nothing answers
    started = time.monotonic()
    assert await ready(proxied) == (503, {"database": "unavailable", "grants": "ok"})
    assert time.monotonic() - started < CHECK_TIMEOUT + 0.5
    proxies["database"].restore()


CHAINS = 8
GRACE = 2


async def test_refresh_chains_survive_a_postgres_outage_three_times_the_grace_window(
    production: Settings, proxies: dict[str, CuttableProxy], clock: FakeClock
) -> None:
    """A refresh needs nothing from PostgreSQL after its rotation commits (the role rides in
    the grant, the session touch is written behind), so no chain is left holding a token
    that became the previous one while its client saw an error, and no retry reads as reuse."""
    settings = replace(
        production,
        refresh_grace=GRACE,
        refresh_limit=1000,
        database_url=through(proxies["database"], production.database_url),
        grants_url=through(proxies["grants"], production.grants_url),
    )
    async with serving(create_app(settings, clock=clock)) as client:
        await register(client)
        tokens = [(await sign_in(client)).refresh_token for _ in range(CHAINS)]
        proxies["database"].cut()
        during: list[int] = []
        for _ in range(3 * GRACE + 1):  # one round a second, past three grace windows
            answers = await asyncio.gather(*(refresh_with(client, t) for t in tokens))
            for chain, answer in enumerate(answers):
                during.append(answer.status_code)
                if answer.status_code == 200:
                    tokens[chain] = the_refresh_cookie(answer).value
            clock.advance(1)
        proxies["database"].restore()

        after = await asyncio.gather(*(refresh_with(client, t) for t in tokens))

    assert [answer.status_code for answer in after] == [200] * CHAINS
    assert set(during) == {200}


async def test_introspection_while_valkey_is_down_is_503_never_an_answer(
    production: Settings, proxies: dict[str, CuttableProxy], clock: FakeClock
) -> None:
    secret = "orders-secret-0123456789abcdefghijkl"
    settings = replace(
        production,
        database_url=through(proxies["database"], production.database_url),
        grants_url=through(proxies["grants"], production.grants_url),
        introspection_clients=(f"orders:{secret}",),
    )
    async with AsyncTestClient(create_app(settings, clock=clock), base_url=BASE_URL) as client:
        body = await register(client)
        proxies["grants"].cut()

        # The denylist cannot be read: neither "active" nor "inactive" would be the truth.
        down = await client.post(
            "/auth/introspect", data={"token": body["access_token"]}, auth=("orders", secret)
        )
        proxies["grants"].restore()
        back = await client.post(
            "/auth/introspect", data={"token": body["access_token"]}, auth=("orders", secret)
        )

    assert_problem(down, 503, "service_unavailable")
    assert back.json()["active"] is True


async def test_second_factor_endpoints_answer_503_while_a_backend_is_down_and_then_work(
    proxied: AsyncTestClient[Any], proxies: dict[str, CuttableProxy], clock: FakeClock
) -> None:
    device = await sign_up(proxied, verified=True)
    enabled = await enable_totp(proxied, device, clock)
    token = await password_step(proxied)

    proxies["grants"].cut()  # the mfa_token, the challenges and the limits live in Valkey
    for answer in [
        await second_step(proxied, token, code=enabled.app.next_code()),
        await proxied.post("/auth/passkeys/login/options"),
        await proxied.post("/auth/passkeys/register/options", headers=device.headers),
    ]:
        assert_problem(answer, 503, "service_unavailable")
    proxies["grants"].restore()

    proxies["database"].cut()  # the secrets, codes and passkeys live in PostgreSQL
    for answer in [
        await proxied.post("/auth/mfa/totp/setup", headers=device.headers),
        await proxied.post(
            "/auth/mfa/recovery-codes", json={"code": enabled.app.code()}, headers=device.headers
        ),
        await proxied.get("/auth/passkeys", headers=device.headers),
    ]:
        assert_problem(answer, 503, "service_unavailable")
    proxies["database"].restore()

    done = await second_step(proxied, token, code=enabled.app.code())
    assert done.status_code == 200, done.text
