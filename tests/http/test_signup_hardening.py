"""Turnstile on register, timing-safe login, bcrypt migration, brute-force limits, audit."""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Iterator
from typing import Any

import bcrypt
import pytest

from infrastructure.config import Settings
from infrastructure.persistence.users import SqlUserRepository
from infrastructure.security.passwords import FAILED_CHECK_FLOOR
from interfaces.bootstrap import open_service
from interfaces.bootstrap.backends import open_database
from interfaces.log_lines import JsonFormatter
from tests.http.helpers import PASSWORD, assert_problem, register
from tests.servers.turnstile import FakeTurnstile

SOLVED = "token-from-the-widget"


@pytest.fixture
def turnstile() -> Iterator[FakeTurnstile]:
    with FakeTurnstile() as fake:
        yield fake


def with_turnstile(make_client: Any, fake: FakeTurnstile) -> Any:
    return make_client(
        turnstile_secret="1x0000000000000000000000000000000AA", turnstile_verify_url=fake.url
    )


async def user_count(settings: Settings) -> int:
    database = open_database(settings)
    try:
        async with database.transaction(write=False) as tx:
            row = await tx.fetchone("SELECT COUNT(*) AS n FROM users")
    finally:
        await database.close()
    assert row is not None
    return int(row["n"])


def signup(token: str | None = SOLVED) -> dict[str, Any]:
    body: dict[str, Any] = {"email": "user@site.com", "password": PASSWORD}
    if token is not None:
        body["turnstile_token"] = token
    return body


async def test_a_solved_turnstile_registers_and_posts_token_secret_and_ip(
    make_client: Any, turnstile: FakeTurnstile
) -> None:
    async with with_turnstile(make_client, turnstile) as client:
        response = await client.post("/auth/register", json=signup())
    assert response.status_code == 201, response.text
    (sent,) = turnstile.requests
    assert sent["response"] == SOLVED
    assert sent["secret"] == "1x0000000000000000000000000000000AA"
    assert sent["remoteip"] == "testclient"
    assert sent["idempotency_key"]


@pytest.mark.parametrize(
    ("mode", "status", "code"),
    [
        ("fail", 403, "captcha_failed"),
        ("duplicate", 403, "captcha_failed"),
        ("error500", 503, "captcha_unavailable"),
        ("non_json", 503, "captcha_unavailable"),
        ("internal_error", 503, "captcha_unavailable"),
    ],
)
async def test_a_failed_turnstile_check_creates_no_user(
    make_client: Any,
    settings: Settings,
    turnstile: FakeTurnstile,
    mode: Any,
    status: int,
    code: str,
) -> None:
    turnstile.mode = mode
    async with with_turnstile(make_client, turnstile) as client:
        response = await client.post("/auth/register", json=signup())
    body = assert_problem(response, status, code)
    assert "invalid-input" not in json.dumps(body)  # Cloudflare's codes are logged, not shown
    assert "set-cookie" not in response.headers
    assert await user_count(settings) == 0


@pytest.mark.parametrize("path", ["/auth/password/forgot", "/auth/email/signin/request"])
async def test_failed_captchas_do_not_use_up_the_accounts_mails(
    make_client: Any, turnstile: FakeTurnstile, path: str
) -> None:
    """Only a solved captcha counts against an account's reset (or sign-in) mails: five
    requests for the owner's address with none solved would lock its recovery for an hour,
    for free."""
    changes = {"email_signin": True} if "signin" in path else {}
    async with make_client(
        turnstile_secret="1x0000000000000000000000000000000AA",
        turnstile_verify_url=turnstile.url,
        **changes,
    ) as client:
        turnstile.mode = "fail"
        for _ in range(5):
            refused = await client.post(path, json={"email": "owner@site.com"})
            assert_problem(refused, 403, "captcha_failed")
        turnstile.mode = "pass"
        owners = await client.post(
            path, json={"email": "owner@site.com", "turnstile_token": SOLVED}
        )

    assert owners.status_code == 202, owners.text


@pytest.mark.parametrize("token", [None, "", "x" * 2049])
async def test_a_missing_or_over_long_token_is_refused_without_calling_turnstile(
    make_client: Any, settings: Settings, turnstile: FakeTurnstile, token: str | None
) -> None:
    async with with_turnstile(make_client, turnstile) as client:
        response = await client.post("/auth/register", json=signup(token))
    assert_problem(response, 403, "captcha_failed")
    assert turnstile.requests == []
    assert await user_count(settings) == 0


async def test_an_unreachable_turnstile_is_503_and_creates_no_user(
    make_client: Any, settings: Settings
) -> None:
    async with make_client(
        turnstile_secret="secret", turnstile_verify_url="http://127.0.0.1:9/siteverify"
    ) as client:
        response = await client.post("/auth/register", json=signup())
    assert_problem(response, 503, "captcha_unavailable")
    assert await user_count(settings) == 0


async def test_unknown_email_and_wrong_password_both_wait_out_the_failure_floor(
    make_client: Any,
) -> None:
    """A lower bound only (never flaky): medians and their ratio live in `just bench`."""
    async with make_client(login_limit=1000) as client:
        await register(client)
        for email in ("nobody@site.com", "user@site.com", "nobody@site.com", "user@site.com"):
            started = time.perf_counter()
            response = await client.post(
                "/auth/login", json={"email": email, "password": "not-the-password"}
            )
            assert time.perf_counter() - started >= FAILED_CHECK_FLOOR
            assert_problem(response, 401, "invalid_credentials")


async def test_wrong_password_and_unknown_email_answer_identically(client: Any) -> None:
    await register(client)
    wrong = await client.post(
        "/auth/login", json={"email": "user@site.com", "password": "nope-nope"}
    )
    unknown = await client.post(
        "/auth/login", json={"email": "who@site.com", "password": "nope-nope"}
    )
    assert wrong.status_code == unknown.status_code == 401
    assert wrong.json() == unknown.json()


async def import_bcrypt_user(settings: Settings, password: bytes) -> None:
    legacy = bcrypt.hashpw(password, bcrypt.gensalt(rounds=10)).decode()
    line = json.dumps({"email": "legacy@site.com", "password_hash": legacy, "name": "Legacy"})
    async with open_service(settings) as service:
        report = await service.cases.import_users.execute([line])
    assert report.imported == 1, report.problems


async def stored_hash(settings: Settings) -> str:
    database = open_database(settings)
    try:
        user = await SqlUserRepository(database).get_by_email("legacy@site.com")
    finally:
        await database.close()
    assert user is not None
    assert user.password_hash is not None
    return user.password_hash


async def test_an_imported_bcrypt_user_logs_in_and_is_rehashed_to_argon2id(
    client: Any, settings: Settings
) -> None:
    await import_bcrypt_user(settings, b"legacy-pass")
    response = await client.post(
        "/auth/login", json={"email": "legacy@site.com", "password": "legacy-pass"}
    )
    assert response.status_code == 200, response.text
    assert (await stored_hash(settings)).startswith("$argon2id$")
    again = await client.post(
        "/auth/login", json={"email": "legacy@site.com", "password": "legacy-pass"}
    )
    assert again.status_code == 200


async def test_an_80_byte_password_against_a_bcrypt_hash_is_401_not_500(
    client: Any, settings: Settings
) -> None:
    await import_bcrypt_user(settings, b"legacy-pass")
    response = await client.post(
        "/auth/login", json={"email": "legacy@site.com", "password": "p" * 80}
    )
    assert_problem(response, 401, "invalid_credentials")
    assert (await stored_hash(settings)).startswith("$2b$")


@pytest.mark.every_deployment
async def test_the_login_limit_holds_across_two_app_instances(
    make_client: Any, settings: Settings
) -> None:
    async with make_client(login_limit=3) as first, make_client(login_limit=3) as second:
        await register(first)
        statuses = []
        for client in (first, second, first, second):
            response = await client.post(
                "/auth/login", json={"email": "user@site.com", "password": "wrong-password"}
            )
            statuses.append(response.status_code)
    if settings.grants_url == "memory://":  # documented: one process's counters only
        assert statuses == [401, 401, 401, 401]
        return
    assert statuses == [401, 401, 401, 429]
    assert int(response.headers["retry-after"]) >= 1
    assert response.json()["code"] == "too_many_requests"


async def test_audit_events_are_json_lines_without_secrets(
    client: Any, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.INFO, logger="authgate.audit"):
        body = await register(client)
        await client.post("/auth/login", json={"email": "user@site.com", "password": "wrong-pass"})
        await client.post("/auth/logout")
    lines = [JsonFormatter().format(r) for r in caplog.records]
    events = [json.loads(line) for line in lines if '"logger":"authgate.audit"' in line]
    names = [e["event"] for e in events]
    assert names[:3] == ["session_started", "user_registered", "login_failed"]
    assert "session_revoked" in names
    assert events[0]["method"] == "pwd"  # how the session's user proved who they are
    failed = events[2]
    assert failed["reason"] == "wrong_password"
    assert failed["user_id"] == body["user"]["id"]
    assert {"time", "ip_address", "user_agent"} <= set(failed)
    text = "\n".join(lines)
    assert PASSWORD not in text
    assert body["access_token"] not in text
    assert "$argon2" not in text
