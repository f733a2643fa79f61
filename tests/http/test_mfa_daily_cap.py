"""Wrong second-step codes are capped per account across every IP: someone with the password
and many addresses gets no more guesses (AUTH_MFA_FAILURE_LIMIT a day), and the owner is
told once."""

from __future__ import annotations

import ipaddress
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import replace

import httpx

from infrastructure.config import Settings
from interfaces.http.app import create_app
from tests.fakes.clock import FakeClock
from tests.http.helpers import BASE_URL, assert_problem, sign_up
from tests.http.mfa_helpers import App, enable_totp, rows
from tests.servers.smtp import SmtpSink

PROXY = "10.0.0.7"


@asynccontextmanager
async def behind_a_proxy(settings: Settings, clock: FakeClock) -> AsyncIterator[httpx.AsyncClient]:
    """The app behind a trusted reverse proxy: every request comes from the proxy's address,
    the client's in X-Forwarded-For."""
    trusting = replace(settings, trusted_proxies=(ipaddress.ip_network("10.0.0.0/8"),))
    app = create_app(trusting, clock=clock)
    transport = httpx.ASGITransport(app=app, client=(PROXY, 50000))  # type: ignore[arg-type]
    async with app.lifespan(), httpx.AsyncClient(transport=transport, base_url=BASE_URL) as c:
        yield c


def from_ip(number: int) -> dict[str, str]:
    return {"X-Forwarded-For": f"198.51.{number // 200}.{number % 200 + 1}"}


async def the_owner_signs_in_with_the_app(client: httpx.AsyncClient, app: App) -> httpx.Response:
    """The right password and the app's next code, from the owner's own address."""
    login = await client.post(
        "/auth/login",
        json={"email": "user@site.com", "password": "secret123"},
        headers=from_ip(100),
    )
    token = assert_problem(login, 401, "mfa_required")["mfa_token"]
    return await client.post(
        "/auth/login/mfa", json={"mfa_token": token, "code": app.next_code()}, headers=from_ip(100)
    )


async def test_sixty_wrong_codes_from_sixty_ips_hit_the_accounts_daily_cap(
    settings: Settings, clock: FakeClock
) -> None:
    async with behind_a_proxy(settings, clock) as client:
        device = await sign_up(client, verified=True)
        app = (await enable_totp(client, device, clock)).app
        right = {app.code(step) for step in (-1, 0, 1)}
        wrong = next(c for c in ("000000", "111111", "222222") if c not in right)

        statuses = []
        token = ""
        for attempt in range(60):
            if attempt % 5 == 0:  # the fifth wrong code ends an attempt: the password again
                login = await client.post(
                    "/auth/login",
                    json={"email": "user@site.com", "password": "secret123"},
                    headers=from_ip(attempt),
                )
                token = assert_problem(login, 401, "mfa_required")["mfa_token"]
            answer = await client.post(
                "/auth/login/mfa",
                json={"mfa_token": token, "code": wrong},
                headers=from_ip(attempt),
            )
            statuses.append(answer.status_code)

        assert statuses[:50] == [401] * 50
        assert statuses[50:] == [429] * 10
        # For everyone, the owner with the right code too.
        owner = await the_owner_signs_in_with_the_app(client, app)
        assert_problem(owner, 429, "too_many_requests")

    told = [m for m in await rows(settings, "outbox") if "paused" in m["subject"]]
    assert len(told) == 1
    assert told[0]["recipient"] == "user@site.com"


async def test_codes_tried_for_new_recovery_codes_or_removing_the_app_count_against_the_cap(
    settings: Settings, clock: FakeClock
) -> None:
    """A stolen aal2 session guesses codes at the two endpoints that take one: from many IPs
    it got around the daily cap the second step keeps."""
    capped = replace(settings, mfa_failure_limit=4)
    async with behind_a_proxy(capped, clock) as client:
        device = await sign_up(client, verified=True)
        enabled = await enable_totp(client, device, clock)
        right = {enabled.app.code(step) for step in (-1, 0, 1)}
        wrong = next(c for c in ("000000", "111111", "222222") if c not in right)

        statuses = []
        for attempt in range(6):
            headers = {**enabled.device.headers, **from_ip(attempt)}
            if attempt % 2:
                answer = await client.post(
                    "/auth/mfa/recovery-codes", json={"code": wrong}, headers=headers
                )
            else:
                answer = await client.request(
                    "DELETE", "/auth/mfa/totp", json={"code": wrong}, headers=headers
                )
            statuses.append(answer.status_code)

    assert statuses == [401] * 4 + [429] * 2


async def test_email_codes_tried_without_the_mail_use_up_no_cap_of_the_owner(
    settings: Settings, clock: FakeClock
) -> None:
    """Anyone who knows the address can send email sign-in codes (no mail, no request id).
    They try nothing (no code was mailed to them) and must not use up the owner's day: not
    the app's codes, not the mailed codes."""
    async with behind_a_proxy(replace(settings, email_signin=True), clock) as client:
        device = await sign_up(client, verified=True)
        app = (await enable_totp(client, device, clock)).app
        client.cookies.clear()
        bogus = [
            await client.post(
                "/auth/email/signin",
                json={"email": "user@site.com", "code": "000000"},
                headers=from_ip(attempt),
            )
            for attempt in range(60)
        ]
        assert {answer.status_code for answer in bogus} == {401}

        owner = await the_owner_signs_in_with_the_app(client, app)
        assert owner.status_code == 200, owner.text


async def test_mailed_codes_have_a_daily_cap_of_their_own(
    settings: Settings, clock: FakeClock, smtp: SmtpSink
) -> None:
    """Guesses at mailed codes (five mails an hour, five tries each) stop at the account's
    daily cap, and a day of them spent leaves the authenticator app's codes alone."""
    with_mail = replace(settings, email_signin=True, smtp_url=smtp.url, mfa_failure_limit=6)
    async with behind_a_proxy(with_mail, clock) as client:
        device = await sign_up(client, verified=True)
        app = (await enable_totp(client, device, clock)).app
        answers = []
        for attempt in range(8):
            client.cookies.clear()
            asked = await client.post(
                "/auth/email/signin/request",
                json={"email": "user@site.com"},
                headers={**from_ip(attempt), "X-Auth-Transport": "body"},
            )
            request_id = asked.json()["request_id"]
            answer = await client.post(
                "/auth/email/signin",
                json={"email": "user@site.com", "code": "000000", "request_id": request_id},
                headers=from_ip(attempt),
            )
            answers.append(answer.status_code)
            clock.advance(900)  # within the mails' hourly allowance

        assert answers == [401] * 6 + [429] * 2
        owner = await the_owner_signs_in_with_the_app(client, app)
        assert owner.status_code == 200, owner.text
