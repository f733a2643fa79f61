"""The two-step password sign-in of an account with an authenticator app: 401 mfa_required
with a single-use mfa_token, then POST /auth/login/mfa with a code or a recovery code."""

from __future__ import annotations

import asyncio
from collections import Counter
from typing import Any

import pytest

from application.admin import CLI, AdminCommand
from infrastructure.config import Settings
from interfaces.bootstrap import open_service
from tests.fakes.authenticator import SoftAuthenticator
from tests.fakes.clock import FakeClock
from tests.http.helpers import (
    BASE_URL,
    BODY_TRANSPORT,
    assert_problem,
    assert_refresh_cookie,
    assert_token_body,
    assert_user,
    no_refresh_cookie,
    open_connections,
    sign_up,
    the_refresh_cookie,
)
from tests.http.mfa_helpers import WithTotp, enable_totp, me_ok, password_step, second_step
from tests.servers.smtp import SmtpSink, link_token

Client = Any


@pytest.fixture
async def enabled(client: Client, clock: FakeClock) -> WithTotp:
    device = await sign_up(client, verified=True)
    return await enable_totp(client, device, clock)


async def test_the_right_password_answers_mfa_required_with_a_token_and_no_session(
    client: Client, enabled: WithTotp
):
    client.cookies.clear()
    response = await client.post(
        "/auth/login", json={"email": "user@site.com", "password": "secret123"}
    )

    body = assert_problem(response, 401, "mfa_required")
    assert body["methods"] == ["totp", "recovery_code"]
    assert len(body["mfa_token"]) >= 43
    assert "access_token" not in body
    assert no_refresh_cookie(response)
    assert response.headers["cache-control"] == "no-store"


async def test_a_wrong_password_is_still_invalid_credentials(client: Client, enabled: WithTotp):
    response = await client.post(
        "/auth/login", json={"email": "user@site.com", "password": "not the password"}
    )
    body = assert_problem(response, 401, "invalid_credentials")
    assert "mfa_token" not in body


async def test_the_apps_code_completes_the_sign_in_with_the_login_body_and_cookie(
    client: Client, enabled: WithTotp
):
    token = await password_step(client)
    response = await second_step(client, token, code=enabled.app.next_code())

    assert response.status_code == 200, response.text
    body = response.json()
    assert_token_body(body, user=True)
    assert_user(body["user"], "user@site.com")
    assert_refresh_cookie(the_refresh_cookie(response))
    assert response.headers["cache-control"] == "no-store"
    assert await me_ok(client, body["access_token"])
    refreshed = await client.post("/auth/refresh")
    assert refreshed.status_code == 200


async def test_a_code_with_a_space_as_apps_show_it_works(client: Client, enabled: WithTotp):
    code = enabled.app.next_code()
    response = await second_step(client, await password_step(client), code=f"{code[:3]} {code[3:]}")
    assert response.status_code == 200


async def test_body_transport_gives_the_refresh_token_in_the_body(
    client: Client, enabled: WithTotp
):
    token = await password_step(client)
    response = await client.post(
        "/auth/login/mfa",
        json={"mfa_token": token, "code": enabled.app.next_code()},
        headers=BODY_TRANSPORT,
    )
    assert response.status_code == 200
    assert_token_body(response.json(), user=True, in_body=True)
    assert no_refresh_cookie(response)


async def test_a_used_code_is_refused_within_its_window(client: Client, enabled: WithTotp):
    code = enabled.app.next_code()
    first = await second_step(client, await password_step(client), code=code)
    assert first.status_code == 200

    token = await password_step(client)
    replay = await second_step(client, token, code=code)
    assert_problem(replay, 401, "invalid_mfa_code")
    enabled.app.clock.advance(10)  # still the same 30-second step
    assert_problem(await second_step(client, token, code=code), 401, "invalid_mfa_code")
    # The token survives a wrong code; the next step's code completes it.
    assert (await second_step(client, token, code=enabled.app.next_code())).status_code == 200


async def test_the_confirming_code_cannot_sign_in(client: Client, enabled: WithTotp):
    response = await second_step(client, await password_step(client), code=enabled.app.code())
    assert_problem(response, 401, "invalid_mfa_code")


@pytest.mark.parametrize(("steps", "accepted"), [(-2, False), (-1, True), (1, True), (2, False)])
async def test_one_step_of_clock_skew_is_accepted_two_are_not(
    client: Client, enabled: WithTotp, steps: int, accepted: bool
):
    enabled.app.clock.advance(5 * 30)  # well past the confirming step
    response = await second_step(client, await password_step(client), code=enabled.app.code(steps))
    if accepted:
        assert response.status_code == 200, response.text
    else:
        assert_problem(response, 401, "invalid_mfa_code")


async def test_a_code_older_than_the_last_used_one_is_refused(client: Client, enabled: WithTotp):
    enabled.app.clock.advance(5 * 30)
    ahead = await second_step(client, await password_step(client), code=enabled.app.code(1))
    assert ahead.status_code == 200
    behind = await second_step(client, await password_step(client), code=enabled.app.code())
    assert_problem(behind, 401, "invalid_mfa_code")  # RFC 6238 §5.2: never an earlier step


async def test_the_fifth_wrong_code_kills_the_token(client: Client, enabled: WithTotp):
    token = await password_step(client)
    for _ in range(4):
        assert_problem(await second_step(client, token, code="000000"), 401, "invalid_mfa_code")
    assert_problem(await second_step(client, token, code="000000"), 401, "invalid_mfa_token")
    dead = await second_step(client, token, code=enabled.app.next_code())
    assert_problem(dead, 401, "invalid_mfa_token")

    fresh = await password_step(client)
    assert (await second_step(client, fresh, code=enabled.app.code())).status_code == 200


async def test_wrong_recovery_codes_count_as_strikes_too(client: Client, enabled: WithTotp):
    token = await password_step(client)
    for _ in range(4):
        wrong = await second_step(client, token, recovery_code="00000-00000")
        assert_problem(wrong, 401, "invalid_mfa_code")
    last = await second_step(client, token, recovery_code="00000-00000")
    assert_problem(last, 401, "invalid_mfa_token")


async def test_the_token_is_single_use(client: Client, enabled: WithTotp):
    token = await password_step(client)
    assert (await second_step(client, token, code=enabled.app.next_code())).status_code == 200
    again = await second_step(client, token, code=enabled.app.next_code())
    assert_problem(again, 401, "invalid_mfa_token")


async def test_the_token_expires_after_five_minutes(client: Client, enabled: WithTotp):
    token = await password_step(client)
    enabled.app.clock.advance(5 * 60 + 1)
    late = await second_step(client, token, code=enabled.app.code())
    assert_problem(late, 401, "invalid_mfa_token")


@pytest.mark.parametrize("token", ["unknown-" + "x" * 40, "short", "x" * 129])
async def test_an_unknown_token_is_invalid_mfa_token(client: Client, enabled: WithTotp, token: str):
    response = await second_step(client, token, code="123456")
    assert_problem(response, 401, "invalid_mfa_token")


async def test_a_recovery_code_signs_in_once(client: Client, enabled: WithTotp):
    code = enabled.recovery_codes[3]
    first = await second_step(client, await password_step(client), recovery_code=code)
    assert first.status_code == 200
    assert_token_body(first.json(), user=True)
    again = await second_step(client, await password_step(client), recovery_code=code)
    assert_problem(again, 401, "invalid_mfa_code")
    other = enabled.recovery_codes[4].upper().replace("-", " ")  # typed by hand
    assert (
        await second_step(client, await password_step(client), recovery_code=other)
    ).status_code == 200


@pytest.mark.every_deployment
async def test_of_ten_concurrent_uses_of_one_recovery_code_exactly_one_signs_in(
    concurrent_client: Any, clock: FakeClock
):
    async with concurrent_client(login_limit=1000) as client:
        enabled = await enable_totp(client, await sign_up(client, verified=True), clock)
        tokens = [await password_step(client) for _ in range(10)]
        await open_connections(client, enabled.device.access_token, 10)
        code = enabled.recovery_codes[0]
        responses = await asyncio.gather(
            *(second_step(client, token, recovery_code=code) for token in tokens)
        )
    assert Counter(r.status_code for r in responses) == {200: 1, 401: 9}
    assert {r.json()["code"] for r in responses if r.status_code == 401} == {"invalid_mfa_code"}


@pytest.mark.every_deployment
async def test_of_ten_concurrent_uses_of_one_totp_code_exactly_one_signs_in(
    concurrent_client: Any, clock: FakeClock
):
    async with concurrent_client(login_limit=1000) as client:
        enabled = await enable_totp(client, await sign_up(client, verified=True), clock)
        tokens = [await password_step(client) for _ in range(10)]
        await open_connections(client, enabled.device.access_token, 10)
        code = enabled.app.next_code()
        responses = await asyncio.gather(
            *(second_step(client, token, code=code) for token in tokens)
        )
    assert Counter(r.status_code for r in responses) == {200: 1, 401: 9}


@pytest.mark.every_deployment
async def test_concurrent_tries_with_one_token_get_one_sign_in(
    concurrent_client: Any, clock: FakeClock
):
    async with concurrent_client() as client:
        enabled = await enable_totp(client, await sign_up(client, verified=True), clock)
        token = await password_step(client)
        code = enabled.app.next_code()
        await open_connections(client, enabled.device.access_token, 5)
        responses = await asyncio.gather(*(second_step(client, token, code=code) for _ in range(5)))
    assert Counter(r.status_code for r in responses) == {200: 1, 401: 4}
    # The token is taken once: the others find it gone, before any code is tried.
    assert {r.json()["code"] for r in responses if r.status_code == 401} == {"invalid_mfa_token"}


async def test_code_guesses_count_against_the_accounts_login_limits(
    make_client: Any, clock: FakeClock, settings: Settings
):
    async with make_client(login_limit=3) as client:
        enabled = await enable_totp(client, await sign_up(client, verified=True), clock)
        token = await password_step(client)  # one attempt counted: no session came of it
        assert_problem(await second_step(client, token, code="000000"), 401, "invalid_mfa_code")
        assert_problem(await second_step(client, token, code="000000"), 401, "invalid_mfa_code")
        limited = await second_step(client, token, code=enabled.app.next_code())
        body = assert_problem(limited, 429, "too_many_requests")
        assert int(limited.headers["retry-after"]) >= 1
        password = await client.post(
            "/auth/login", json={"email": "user@site.com", "password": "secret123"}
        )
        assert_problem(password, 429, "too_many_requests")  # the limits are shared
        assert body["detail"]


async def test_a_password_reset_keeps_the_second_factor(
    make_client: Any, clock: FakeClock, smtp: SmtpSink
):
    async with make_client(smtp_url=smtp.url, outbox_poll_interval=0.02) as client:
        enabled = await enable_totp(client, await sign_up(client, verified=True), clock)
        await client.post("/auth/password/forgot", json={"email": "user@site.com"})
        token = link_token(await smtp.wait_for_subject("user@site.com", "Reset", 1))
        reset = await client.post(
            "/auth/password/reset", json={"token": token, "new_password": "a new passphrase"}
        )
        assert reset.status_code == 204

        mfa_token = await password_step(client, password="a new passphrase")
        done = await second_step(client, mfa_token, code=enabled.app.next_code())
        assert done.status_code == 200


async def test_a_password_reset_kills_a_second_step_opened_with_the_old_password(
    make_client: Any, clock: FakeClock, smtp: SmtpSink
):
    """Someone with the old password (and the app's code, or time to phish it) got an
    mfa_token; the owner resets the password meanwhile. The old password proves nothing any
    more, so its half-finished sign-in must not finish (ASVS 5.0 V7.4.3)."""
    async with make_client(smtp_url=smtp.url, outbox_poll_interval=0.02) as client:
        enabled = await enable_totp(client, await sign_up(client, verified=True), clock)
        intruders = await password_step(client)
        await client.post("/auth/password/forgot", json={"email": "user@site.com"})
        token = link_token(await smtp.wait_for_subject("user@site.com", "Reset", 1))
        reset = await client.post(
            "/auth/password/reset", json={"token": token, "new_password": "a new passphrase"}
        )
        assert reset.status_code == 204
        client.cookies.clear()

        refused = await second_step(client, intruders, code=enabled.app.next_code())

        assert_problem(refused, 401, "invalid_mfa_token")
        assert no_refresh_cookie(refused)
        owners = await password_step(client, password="a new passphrase")
        done = await second_step(client, owners, code=enabled.app.next_code())
        assert done.status_code == 200, done.text


async def test_an_account_with_a_passkey_is_offered_it_as_a_method(
    client: Client, enabled: WithTotp
):
    authenticator = SoftAuthenticator(BASE_URL)
    options = await client.post("/auth/passkeys/register/options", headers=enabled.device.headers)
    added = await client.post(
        "/auth/passkeys/register/verify",
        json={"credential": authenticator.create(options.json())},
        headers=enabled.device.headers,
    )
    assert added.status_code == 201
    response = await client.post(
        "/auth/login", json={"email": "user@site.com", "password": "secret123"}
    )
    body = assert_problem(response, 401, "mfa_required")
    assert body["methods"] == ["totp", "recovery_code", "passkey"]


async def test_a_disabled_account_learns_it_only_after_both_steps(
    client: Client, enabled: WithTotp, settings: Settings
):
    async with open_service(settings) as service:
        await service.cases.disable_user.execute(
            AdminCommand(user_id=enabled.device.body["user"]["id"], actor=CLI)
        )
    token = await password_step(client)
    assert_problem(await second_step(client, token, code="000000"), 401, "invalid_mfa_code")
    done = await second_step(client, token, code=enabled.app.next_code())
    assert_problem(done, 403, "account_disabled")
    assert no_refresh_cookie(done)
