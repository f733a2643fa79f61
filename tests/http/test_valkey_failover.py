"""A Valkey failover under the service: the primary is killed (SIGKILL) while clients
refresh, Sentinel promotes the replica, and the running app follows it. The app from
``create_app`` is served in-process through httpx's ASGI transport, on the test's own event
loop, so that its clients are truly concurrent (Litestar's test client runs one at a time).

During the switch every answer is a 200, a 401 or a 503 problem, never a 500; the service
recovers on the promoted replica without a restart. Replication is asynchronous, so a
rotation the primary acknowledged but had not yet sent its replica is lost with it: that
client's newest token is unknown to the new primary (401 ``invalid_refresh_token``, a
forced sign-in), never reuse; a logout lost that way is re-applied from SQL once the
service sees another server answer (within a second). The first test counts lost
rotations under a plain kill; the second makes losses happen (the replication link stalled)
and shows exactly what they are.
"""

from __future__ import annotations

import asyncio
import time
from collections import Counter
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest

from infrastructure.config import Settings
from interfaces.http.app import create_app
from tests.backends import run_token
from tests.backends.valkey_sentinel import SentinelDeployment, sentinel_deployment
from tests.http.conftest import BASE_URL, loaded_deployment
from tests.http.helpers import (
    PASSWORD,
    assert_problem,
    bearer,
    cookie_header,
    the_refresh_cookie,
)

pytestmark = pytest.mark.backends

CHAINS = 8
LOAD_BEFORE_THE_KILL = 1.0  # seconds of refreshes on the first primary
RECOVERY_BOUND = 30.0  # seconds from the kill within which every chain must be answered
RETRY_PAUSE = 0.05  # a client's pause after a 503
EMAIL = "user@site.com"


async def sentinel_settings(tmp_path: Path, valkey: SentinelDeployment) -> Settings:
    """Users and sessions in SQLite; grants, one-time values and limits behind Sentinel."""
    return await loaded_deployment(tmp_path, valkey.url(f"authgate-test-{run_token()}:"))


@asynccontextmanager
async def serving(settings: Settings) -> AsyncIterator[httpx.AsyncClient]:
    """The app with its lifespan (backends opened, then closed), and a client of it."""
    app = create_app(settings)
    transport = httpx.ASGITransport(app=app)  # type: ignore[arg-type]  # Litestar's own types
    async with app.lifespan(), httpx.AsyncClient(transport=transport, base_url=BASE_URL) as client:
        yield client


async def register(client: httpx.AsyncClient) -> None:
    answer = await client.post("/auth/register", json={"email": EMAIL, "password": PASSWORD})
    assert answer.status_code == 201, answer.text


async def sign_in(client: httpx.AsyncClient) -> httpx.Response:
    answer = await client.post("/auth/login", json={"email": EMAIL, "password": PASSWORD})
    assert answer.status_code == 200, answer.text
    return answer


async def refresh_with(client: httpx.AsyncClient, refresh_token: str) -> httpx.Response:
    return await client.post("/auth/refresh", headers=cookie_header(refresh_token))


def refresh_token(answer: httpx.Response) -> str:
    return the_refresh_cookie(answer).value


@dataclass
class Chain:
    """One client following its own rotating cookie."""

    token: str
    answers: Counter[int] = field(default_factory=Counter)
    unexpected: list[str] = field(default_factory=list)  # neither 200, 401 nor a 503 problem
    recovered: bool = False  # a refresh sent after the kill succeeded
    refused: str | None = None  # the code of the 401 that ended the chain
    refused_before_the_kill: bool = False


@dataclass
class Failover:
    killed_at: float | None = None
    stop: asyncio.Event = field(default_factory=asyncio.Event)

    def after_the_kill(self, sent: float) -> bool:
        return self.killed_at is not None and sent > self.killed_at


async def follow(chain: Chain, client: httpx.AsyncClient, failover: Failover) -> None:
    while not failover.stop.is_set():
        sent = time.monotonic()
        answer = await refresh_with(client, chain.token)
        chain.answers[answer.status_code] += 1
        if answer.status_code == 200:
            chain.token = refresh_token(answer)
            chain.recovered = chain.recovered or failover.after_the_kill(sent)
        elif answer.status_code == 401:
            chain.refused = answer.json()["code"]
            chain.refused_before_the_kill = not failover.after_the_kill(sent)
            return
        else:
            if not is_a_503_problem(answer):
                chain.unexpected.append(f"{answer.status_code} {answer.text[:200]}")
            await asyncio.sleep(RETRY_PAUSE)


def is_a_503_problem(answer: Any) -> bool:
    try:
        assert_problem(answer, 503, "service_unavailable")
    except AssertionError:
        return False
    return True


async def test_a_primary_killed_under_refresh_load_is_503s_then_the_promoted_replica_serves(
    tmp_path: Path, record_property: Any
) -> None:
    with sentinel_deployment(tmp_path / "valkey") as valkey:
        settings = await sentinel_settings(tmp_path, valkey)
        async with serving(settings) as client:
            await register(client)
            chains = [Chain(refresh_token(await sign_in(client))) for _ in range(CHAINS)]
            failover = Failover()
            runners = [asyncio.create_task(follow(chain, client, failover)) for chain in chains]
            await asyncio.sleep(LOAD_BEFORE_THE_KILL)
            before = sum(chain.answers[200] for chain in chains)

            valkey.kill_primary()
            failover.killed_at = time.monotonic()
            deadline = failover.killed_at + RECOVERY_BOUND
            while time.monotonic() < deadline and not all(
                chain.recovered or chain.refused for chain in chains
            ):
                await asyncio.sleep(0.1)
            answered_within = time.monotonic() - failover.killed_at
            await asyncio.sleep(0.5)  # the survivors go on rotating on the new primary
            failover.stop.set()
            await asyncio.gather(*runners)

            # A new sign-in and its refresh: the service works on without a restart.
            newcomer = await sign_in(client)
            afterwards = await refresh_with(client, refresh_token(newcomer))
        promoted = await primary_once_the_sentinels_agree(valkey)

    lost = [chain for chain in chains if chain.refused == "invalid_refresh_token"]
    answers = sum((chain.answers for chain in chains), Counter[int]())
    report = (
        f"failover: {CHAINS} chains, {before} rotations before the kill, answers {dict(answers)},"
        f" every chain answered {answered_within:.1f}s after the kill,"
        f" {len(lost)} rotation(s) lost"
    )
    print(report)
    record_property("lost_rotations", len(lost))

    assert promoted == {valkey.replica_port}
    assert before > 0
    assert answers[503] > 0, "the kill was never noticed: no failover was exercised"
    assert [chain.unexpected for chain in chains] == [[]] * CHAINS, report
    assert not any(chain.refused_before_the_kill for chain in chains), report
    # A survivor refreshed on the new primary; a chain that lost its newest rotation was
    # told its token is unknown (a forced sign-in), never that it was reused.
    for chain in chains:
        assert chain.recovered or chain.refused == "invalid_refresh_token", report
    assert afterwards.status_code == 200


async def test_a_stalled_replica_loses_rotations_as_unknown_tokens_never_reuse_and_logouts(
    tmp_path: Path,
) -> None:
    """The replication link stalls, two clients rotate and one logs out (the primary
    acknowledges), the primary dies. The promoted replica still holds those sessions at the
    tokens before: the acknowledged ones are unknown there, the sessions are neither lost nor
    revoked; the logged-out one is back until the service, seeing another server answer,
    re-applies the revocations SQL recorded."""
    with sentinel_deployment(tmp_path / "valkey", stallable=True) as valkey:
        settings = await sentinel_settings(tmp_path, valkey)
        async with serving(settings) as client:
            await register(client)
            lagging = [await sign_in(client) for _ in range(2)]
            settled = [await sign_in(client) for _ in range(2)]
            leaving = await sign_in(client)
            with valkey.client(valkey.primary_port) as primary:  # all five reached the replica
                assert primary.execute_command("WAIT", 1, 5000) == 1

            assert valkey.proxy is not None
            valkey.proxy.stall()
            acknowledged = [await refresh_with(client, refresh_token(device)) for device in lagging]
            assert [answer.status_code for answer in acknowledged] == [200, 200]
            logout = await client.post(
                "/auth/logout", headers=cookie_header(refresh_token(leaving))
            )
            assert logout.status_code == 204
            assert (await refresh_with(client, refresh_token(leaving))).status_code == 401
            valkey.kill_primary()

            first = await until_not_503(client, refresh_token(settled[0]))
            assert first.status_code == 200, first.text
            assert (await refresh_with(client, refresh_token(settled[1]))).status_code == 200
            for answer in acknowledged:
                newest = refresh_token(answer)
                refused = await refresh_with(client, newest)
                assert_problem(refused, 401, "invalid_refresh_token")
                # Not revoked: the access token of the lost rotation still works ...
                me = await client.get("/auth/me", headers=bearer(answer.json()["access_token"]))
                assert me.status_code == 200, me.text
            for device, answer in zip(lagging, acknowledged, strict=True):
                # ... and the token before it is still current on the new primary: presented
                # again, it is rotated to the very same successor (derived from it).
                again = await refresh_with(client, refresh_token(device))
                assert again.status_code == 200, again.text
                assert refresh_token(again) == refresh_token(answer)

            # The logout acknowledged in that window was lost with the primary, and the
            # session it ended came back in Valkey; within a second of seeing another server
            # answer, the service re-applies what SQL recorded: ended again, tokens refused.
            assert await logged_out_again(client, leaving), "the lost logout was not re-applied"
        assert await primary_once_the_sentinels_agree(valkey) == {valkey.replica_port}


async def primary_once_the_sentinels_agree(valkey: SentinelDeployment) -> set[int | None]:
    """The primary each sentinel names, once they all name the replica (or time is up): the
    sentinel that led the failover tells the others within a few seconds."""
    deadline = time.monotonic() + RECOVERY_BOUND
    while (named := valkey.primary_named_by_sentinels()) != {valkey.replica_port}:
        if time.monotonic() > deadline:
            break
        await asyncio.sleep(0.1)
    return named


async def logged_out_again(client: httpx.AsyncClient, leaving: httpx.Response) -> bool:
    """Whether, within the recovery bound, the logged-out session's access token is refused
    again, and then its refresh token too. Only the access token is polled: presenting the
    refresh token would rotate the revived family, and a repeat after the grace window
    would end it as reuse, which is not what is tested here."""
    deadline = time.monotonic() + RECOVERY_BOUND
    access = bearer(leaving.json()["access_token"])
    while (await client.get("/auth/me", headers=access)).status_code != 401:
        if time.monotonic() > deadline:
            return False
        await asyncio.sleep(0.1)
    refused = await refresh_with(client, refresh_token(leaving))
    return refused.status_code == 401 and refused.json()["code"] == "invalid_refresh_token"


async def until_not_503(client: httpx.AsyncClient, token: str) -> httpx.Response:
    deadline = time.monotonic() + RECOVERY_BOUND
    while True:
        answer = await refresh_with(client, token)
        if answer.status_code != 503 or time.monotonic() > deadline:
            return answer
        assert_problem(answer, 503, "service_unavailable")
        await asyncio.sleep(RETRY_PAUSE)
