"""Three independent `authgate serve` processes (not workers of one granian) on one
PostgreSQL and one Valkey, sharing one keys file, as a scaled-out deployment runs them:
whichever process a request reaches, the answers are those of a single process.

Nothing a process keeps for itself may decide an outcome: refresh rotation and reuse
detection live in the shared grant store, revocation in its denylist (checked on every
request, before any per-process cache of verified tokens or profiles), and rate-limit
windows in Valkey (OWASP ASVS V3.3: logout and revocation take effect at once; V6.3.5:
brute-force limits hold for the whole service).
"""

from __future__ import annotations

import asyncio
import os
import subprocess
import uuid
from collections import Counter
from collections.abc import AsyncIterator, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import ExitStack
from pathlib import Path

import httpx
import pytest

from tests.backends import run_sync, run_token
from tests.backends.postgres import truncate
from tests.e2e.clients import pull_old_signing_keys, wait_until_refused
from tests.e2e.conftest import BIN, Server, running_server
from tests.http.helpers import (
    PASSWORD,
    assert_problem,
    bearer,
    refresh_with,
    sign_in,
    sign_up,
    the_refresh_cookie,
)

pytestmark = pytest.mark.backends

PROCESSES = 3
# The public origin every process signs as (behind one load balancer): a token minted by
# one process names the issuer the others expect.
ISSUER = "https://auth.example.com"
LOGIN_LIMIT = 3
RACERS = 50


@pytest.fixture(scope="module")
def workdirs(tmp_path_factory: pytest.TempPathFactory) -> list[Path]:
    return [tmp_path_factory.mktemp(f"process{n}") for n in range(PROCESSES)]


@pytest.fixture(scope="module")
def settings(workdirs: list[Path], postgres_url: str, valkey_server_url: str) -> dict[str, str]:
    """One database, one Valkey namespace of this module's own, and one keys file: the
    first process's ./data/jwks.json, which the others name by its full path."""
    return {
        "AUTH_DATABASE_URL": postgres_url,
        "AUTH_GRANTS_URL": f"{valkey_server_url}{run_token()}:",
        "AUTH_KEYS_FILE": str(workdirs[0] / "data" / "jwks.json"),
        "AUTH_ISSUER": ISSUER,
        "AUTH_LOGIN_LIMIT": str(LOGIN_LIMIT),
        # The race alone sends fifty refreshes from this one address.
        "AUTH_REFRESH_LIMIT": "1000",
        "AUTH_REGISTER_LIMIT": "1000",
    }


@pytest.fixture(scope="module")
def servers(workdirs: list[Path], settings: dict[str, str]) -> Iterator[list[Server]]:
    """Migrated once, then three `authgate serve` started at once on the fresh keys file
    (the first start of each creates it unless another did: they all end on one)."""
    authgate(workdirs[0], "migrate", settings=settings)
    # The worker's database is shared with the suites before this module: the contract
    # tests leave users with ids they chose, ahead of the id sequence.
    run_sync(truncate(settings["AUTH_DATABASE_URL"]))
    with ExitStack() as stack:
        with ThreadPoolExecutor(PROCESSES) as pool:
            started = list(
                pool.map(
                    lambda workdir: stack.enter_context(
                        running_server(workdir, serve=True, environment=settings)
                    ),
                    workdirs,
                )
            )
        yield started


@pytest.fixture
async def clients(servers: list[Server]) -> AsyncIterator[list[httpx.AsyncClient]]:
    """One client per process; every request names the cookie it sends, never a jar."""
    async with (
        httpx.AsyncClient(base_url=servers[0].url) as a,
        httpx.AsyncClient(base_url=servers[1].url) as b,
        httpx.AsyncClient(base_url=servers[2].url) as c,
    ):
        yield [a, b, c]


def authgate(workdir: Path, *argv: str, settings: dict[str, str]) -> None:
    """The real `authgate` command, with the processes' settings and nothing else."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("AUTH_")}
    subprocess.run([BIN / "authgate", *argv], cwd=workdir, env={**env, **settings}, check=True)


def new_email() -> str:
    return f"{uuid.uuid4().hex[:12]}@example.com"


async def me_everywhere(clients: list[httpx.AsyncClient], access_token: str) -> list[int]:
    answers = await asyncio.gather(
        *(c.get("/auth/me", headers=bearer(access_token)) for c in clients)
    )
    return [answer.status_code for answer in answers]


async def test_fifty_concurrent_refreshes_over_three_processes_converge_on_one_successor(
    clients: list[httpx.AsyncClient],
) -> None:
    a, b, c = clients
    device = await sign_up(a, new_email())

    answers = await asyncio.gather(
        *(refresh_with(clients[n % PROCESSES], device.refresh_token) for n in range(RACERS))
    )

    # As in one process (tests/http/test_refresh_security.py): within the grace window
    # every racer gets 200 and the same successor (RFC 9700 §4.14.2).
    assert Counter(answer.status_code for answer in answers) == {200: RACERS}
    successors = {the_refresh_cookie(answer).value for answer in answers}
    assert len(successors) == 1
    (successor,) = successors
    assert successor != device.refresh_token
    for access_token in {answer.json()["access_token"] for answer in answers}:
        assert await me_everywhere(clients, access_token) == [200] * PROCESSES
    # The successor rotates on one process; within grace the others hand out the same next
    # token for it, and that token rotates on yet another.
    nexts = [await refresh_with(client, successor) for client in (a, b, c)]
    assert [answer.status_code for answer in nexts] == [200] * PROCESSES
    assert len({the_refresh_cookie(answer).value for answer in nexts}) == 1
    last = await refresh_with(b, the_refresh_cookie(nexts[0]).value)
    assert last.status_code == 200, last.text


async def test_a_replay_on_one_process_ends_the_session_on_every_process(
    clients: list[httpx.AsyncClient],
) -> None:
    a, b, c = clients
    device = await sign_up(a, new_email())
    second = await refresh_with(a, device.refresh_token)
    third = await refresh_with(c, the_refresh_cookie(second).value)
    assert (second.status_code, third.status_code) == (200, 200)
    newest = the_refresh_cookie(third).value
    access_tokens = [
        device.access_token,
        second.json()["access_token"],
        third.json()["access_token"],
    ]
    for access_token in access_tokens:
        assert await me_everywhere(clients, access_token) == [200] * PROCESSES

    # Two generations old: reuse even within the grace window (RFC 9700 §4.14.2).
    assert_problem(await refresh_with(b, device.refresh_token), 401, "refresh_token_reused")

    for client in (a, c):
        assert_problem(await refresh_with(client, newest), 401, "invalid_refresh_token")
    for access_token in access_tokens:
        assert await me_everywhere(clients, access_token) == [401] * PROCESSES


async def test_a_logout_on_one_process_is_refused_at_once_by_the_others_while_they_serve(
    clients: list[httpx.AsyncClient],
) -> None:
    a, b, c = clients
    leaving = await sign_up(a, new_email())
    staying = await sign_up(b, new_email())
    # The other processes have verified (and may remember) the token and the profile.
    assert await me_everywhere(clients, leaving.access_token) == [200] * PROCESSES
    logged_out = asyncio.Event()
    # (process, sent after the logout had answered, status) for every /auth/me of the
    # leaving session that B and C serve all along.
    seen: list[tuple[str, bool, int]] = []

    async def keep_asking(client: httpx.AsyncClient) -> None:
        after = 0
        while after < 3:
            sent_after = logged_out.is_set()
            answer = await client.get("/auth/me", headers=leaving.headers)
            seen.append((str(client.base_url), sent_after, answer.status_code))
            after += sent_after

    askers = [asyncio.create_task(keep_asking(client)) for client in (b, c)]
    await asyncio.sleep(0.05)
    logout = await a.post("/auth/logout", headers=leaving.cookie)
    assert logout.status_code == 204
    logged_out.set()
    await asyncio.gather(*askers)

    assert {url for url, after, _ in seen if after} == {str(b.base_url), str(c.base_url)}
    assert [status for _, after, status in seen if after] == [401] * 6
    for client in clients:
        assert_problem(await client.get("/auth/me", headers=leaving.headers), 401, "invalid_token")
    assert await me_everywhere(clients, staying.access_token) == [200] * PROCESSES


@pytest.fixture(scope="module")
def admin_email(servers: list[Server], settings: dict[str, str]) -> str:
    """A user made admin with the CLI (a fourth process on the same backends)."""
    email = new_email()
    registered = httpx.post(
        f"{servers[0].url}/auth/register", json={"email": email, "password": PASSWORD}
    )
    assert registered.status_code == 201, registered.text
    authgate(servers[0].workdir, "users", "set-role", email, "admin", settings=settings)
    return email


async def test_a_user_disabled_on_one_process_is_refused_at_once_by_the_others(
    clients: list[httpx.AsyncClient], admin_email: str
) -> None:
    a, b, c = clients
    admin = await sign_in(a, admin_email)
    email = new_email()
    victim = await sign_up(b, email)
    assert await me_everywhere(clients, victim.access_token) == [200] * PROCESSES

    disabled = await a.post(
        f"/admin/users/{victim.body['user']['id']}/disable", headers=admin.headers
    )
    assert disabled.status_code == 204, disabled.text

    assert await me_everywhere(clients, victim.access_token) == [401] * PROCESSES
    assert_problem(await refresh_with(c, victim.refresh_token), 401, "invalid_refresh_token")
    refused = await b.post("/auth/login", json={"email": email, "password": PASSWORD})
    assert_problem(refused, 403, "account_disabled")


async def test_the_login_limit_is_counted_once_across_the_processes(
    clients: list[httpx.AsyncClient], admin_email: str
) -> None:
    """AUTH_LOGIN_LIMIT failed logins per account (from one address) in all: spread over
    three processes, the next attempt is refused, not the limit's 3x."""
    a, b, c = clients
    email = new_email()
    await sign_up(a, email)

    async def attempt(client: httpx.AsyncClient, password: str) -> httpx.Response:
        return await client.post("/auth/login", json={"email": email, "password": password})

    failures = [await attempt(clients[n % PROCESSES], "wrong-guess") for n in range(LOGIN_LIMIT)]
    assert [answer.status_code for answer in failures] == [401] * LOGIN_LIMIT
    # Each process has seen at most one of the failures; every one refuses the next try,
    # the owner's right password included (the tier binds the account from this address).
    for client in clients:
        refused = await attempt(client, PASSWORD)
        assert_problem(refused, 429, "too_many_requests")
        assert int(refused.headers["retry-after"]) >= 1

    # An admin's unlock on one process lifts the limit on all of them.
    admin = await sign_in(b, admin_email)
    user = (await b.get("/admin/users", params={"email": email}, headers=admin.headers)).json()
    (found,) = user["users"]
    assert (
        await b.post(f"/admin/users/{found['id']}/unlock", headers=admin.headers)
    ).status_code == 204
    assert (await attempt(c, PASSWORD)).status_code == 200


async def test_a_signing_key_pulled_from_the_shared_file_stops_verifying_on_every_process(
    clients: list[httpx.AsyncClient], servers: list[Server]
) -> None:
    """Each process remembers the tokens it verified; a key taken out of the file (a leak)
    ends that on every process within the second each takes to re-read the file. Last in
    the file: every access token signed so far dies here."""
    a, b, _ = clients
    device = await sign_up(a, new_email())
    assert await me_everywhere(clients, device.access_token) == [200] * PROCESSES

    pull_old_signing_keys(servers[0])

    for server in servers:
        wait_until_refused(server, device.access_token)
    fresh = await refresh_with(b, device.refresh_token)
    assert fresh.status_code == 200, fresh.text
    assert await me_everywhere(clients, fresh.json()["access_token"]) == [200] * PROCESSES
