"""Pwned Passwords over HTTP, against a fake range API on loopback: 422 password_breached at
register, reset and change; a breached password signs in flagged and is mailed once; the
range API down or slow lets the password through (fail open), audited, never a 5xx."""

from __future__ import annotations

import json
import re
from collections.abc import AsyncIterator, Callable, Iterator
from typing import Any

import pytest
from litestar.testing import AsyncTestClient

from infrastructure.config import Settings
from interfaces.bootstrap.backends import open_database
from tests.fakes.clock import FakeClock
from tests.http.helpers import PASSWORD, assert_problem, bearer, register, sign_up
from tests.http.mfa_helpers import enable_totp, password_step, second_step
from tests.http.scrape import grown, scrape
from tests.servers.loopback import refused_origin
from tests.servers.pwned import FakePwnedPasswords, sha1
from tests.servers.smtp import SmtpSink, link_token

Client = AsyncTestClient[Any]
USER = "user@site.com"
BREACHED = "password123"
FRESH = "a fresh and long passphrase"


@pytest.fixture
def pwned() -> Iterator[FakePwnedPasswords]:
    with FakePwnedPasswords({BREACHED: 42}) as fake:
        yield fake


@pytest.fixture
async def app(
    make_client: Callable[..., Client], pwned: FakePwnedPasswords, smtp: SmtpSink
) -> AsyncIterator[Client]:
    async with make_client(
        pwned_check=True, pwned_url=pwned.url, smtp_url=smtp.url, outbox_poll_interval=0.02
    ) as client:
        yield client


async def breach_mails_queued(settings: Settings) -> int:
    database = open_database(settings)
    try:
        async with database.transaction(write=False) as tx:
            row = await tx.fetchone(
                "SELECT COUNT(*) AS n FROM outbox WHERE subject LIKE 'Change your%'"
            )
    finally:
        await database.close()
    assert row is not None
    return int(row["n"])


async def test_register_refuses_a_breached_password_sending_only_a_hash_prefix(
    app: Client, pwned: FakePwnedPasswords
) -> None:
    refused = await app.post("/auth/register", json={"email": USER, "password": BREACHED})

    assert_problem(refused, 422, "password_breached")
    assert refused.headers["content-type"].startswith("application/problem+json")
    [request] = pwned.requests
    assert re.fullmatch(r"/range/[0-9A-F]{5}", request.path)
    assert request.prefix == sha1(BREACHED)[:5]
    assert request.headers["add-padding"] == "true"
    await register(app, USER, FRESH)


async def test_reset_and_change_refuse_a_breached_password(app: Client, smtp: SmtpSink) -> None:
    signed_up = await register(app, USER, PASSWORD)
    await app.post("/auth/password/forgot", json={"email": USER})
    token = link_token(await smtp.wait_for_subject(USER, "Reset", 1))

    reset = await app.post("/auth/password/reset", json={"token": token, "new_password": BREACHED})
    change = await app.post(
        "/auth/password/change",
        json={"current_password": PASSWORD, "new_password": BREACHED},
        headers=bearer(signed_up["access_token"]),
    )

    assert_problem(reset, 422, "password_breached")
    assert_problem(change, 422, "password_breached")
    fresh = await app.post("/auth/password/reset", json={"token": token, "new_password": FRESH})
    assert fresh.status_code == 204, fresh.text  # the refused attempt left the link working


@pytest.mark.every_deployment
async def test_a_breached_password_signs_in_flagged_and_is_mailed_once(
    app: Client, pwned: FakePwnedPasswords, smtp: SmtpSink, settings: Settings
) -> None:
    await register(app, USER, PASSWORD)
    pwned.counts[sha1(PASSWORD)] = 3  # in a breach since the sign-up

    answers = [
        await app.post("/auth/login", json={"email": USER, "password": PASSWORD}) for _ in range(2)
    ]

    assert [a.status_code for a in answers] == [200, 200]
    assert [a.json()["password_breached"] for a in answers] == [True, True]
    assert await breach_mails_queued(settings) == 1
    await smtp.wait_for_subject(USER, "Change your", 1)


async def test_a_clean_password_signs_in_without_the_flag(app: Client) -> None:
    await register(app, USER, PASSWORD)

    answer = await app.post("/auth/login", json={"email": USER, "password": PASSWORD})

    assert answer.status_code == 200
    assert "password_breached" not in answer.json()


async def test_a_refused_range_api_lets_the_password_through_audited_and_counted(
    make_client: Callable[..., Client], capsys: pytest.CaptureFixture[str]
) -> None:
    async with make_client(
        pwned_check=True, pwned_url=refused_origin() + "/range/{prefix}"
    ) as client:
        before = await scrape(client)
        body = await register(client, USER, BREACHED)
        signed_in = await client.post("/auth/login", json={"email": USER, "password": BREACHED})
        after = await scrape(client)

    assert signed_in.status_code == 200
    assert "password_breached" not in signed_in.json()
    audit = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    skipped = [line for line in audit if line.get("event") == "breach_check_unavailable"]
    assert [(line.get("user_id"), line["reason"]) for line in skipped] == [
        (None, "unreachable"),
        (body["user"]["id"], "unreachable"),
    ]
    assert body["user"]["email"] == USER
    assert grown(before, after, "authgate_pwned_range_failures_total", reason="unreachable") == 2
    assert grown(before, after, "authgate_pwned_range_seconds_count") == 2


async def test_a_range_api_slower_than_two_seconds_lets_the_password_through(
    make_client: Callable[..., Client], pwned: FakePwnedPasswords
) -> None:
    pwned.mode = "slow"

    async with make_client(pwned_check=True, pwned_url=pwned.url) as client:
        await register(client, USER, BREACHED)

    assert len(pwned.requests) == 1


async def test_an_account_with_a_second_factor_is_flagged_and_mailed_at_the_second_step(
    app: Client, pwned: FakePwnedPasswords, smtp: SmtpSink, settings: Settings, clock: FakeClock
) -> None:
    """The check runs beside the password step; its answer waits with the mfa_token."""
    enabled = await enable_totp(app, await sign_up(app, USER, verified=True), clock)
    pwned.counts[sha1(PASSWORD)] = 3

    first = await second_step(app, await password_step(app, USER), code=enabled.app.next_code())
    wrong = await second_step(app, await password_step(app, USER), code="000000")

    assert first.status_code == 200, first.text
    assert first.json()["password_breached"] is True
    assert_problem(wrong, 401, "invalid_mfa_code")  # no sign-in: nothing to flag yet
    assert await breach_mails_queued(settings) == 1
    await smtp.wait_for_subject(USER, "Change your", 1)
    pwned.counts.pop(sha1(PASSWORD))
    clean = await second_step(app, await password_step(app, USER), code=enabled.app.next_code())
    assert "password_breached" not in clean.json()
