"""The new-device notice over HTTP: the device cookie a sign-in sets, X-Device-Id for clients
without cookies, the mail and its "this wasn't me" link. The rules are proven in
tests/unit/test_new_device.py."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from typing import Any

import pytest
from litestar.testing import AsyncTestClient

from tests.fakes.clock import FakeClock
from tests.http.helpers import (
    BODY_TRANSPORT,
    PASSWORD,
    assert_access_rejected,
    assert_problem,
    set_cookies,
    sign_in,
    sign_up,
)
from tests.servers.smtp import SmtpSink, link_token, text_of

Client = AsyncTestClient[Any]
FIREFOX_ON_LINUX = "Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0"
ADA = "ada@example.test"
NOTICE = "New sign-in to your authgate account"
NEW_PASSWORD = "a much better passphrase"


@pytest.fixture
async def app(make_client: Callable[..., Client], smtp: SmtpSink) -> AsyncIterator[Client]:
    async with make_client(smtp_url=smtp.url, outbox_poll_interval=0.02) as client:
        yield client


async def settled(smtp: SmtpSink) -> None:
    """Time for the outbox sender to deliver what was queued."""
    await asyncio.sleep(0.3)


async def test_a_sign_in_sets_a_long_lived_httponly_device_cookie(app: Client) -> None:
    registered = await app.post("/auth/register", json={"email": ADA, "password": PASSWORD})
    [device] = [c for c in set_cookies(registered) if c.name == "device"]
    assert len(device.value) >= 16
    assert "httponly" in device.attributes
    assert "secure" in device.attributes
    assert device.attributes["path"] == "/auth"
    assert int(device.attributes["max-age"] or 0) >= 365 * 86400


async def test_sign_ins_from_the_registering_browser_send_no_notice(
    app: Client, smtp: SmtpSink
) -> None:
    await sign_up(app, ADA)
    await sign_in(app, ADA)
    await sign_in(app, ADA)
    await settled(smtp)
    assert smtp.about(ADA, NOTICE) == []


async def test_a_new_browser_sends_one_notice_and_this_wasnt_me_works_once(
    app: Client, make_client: Callable[..., Client], smtp: SmtpSink
) -> None:
    mine = await sign_up(app, ADA, verified=True)
    async with make_client(smtp_url=smtp.url) as elsewhere:
        theirs = await sign_in(elsewhere, ADA, headers={"User-Agent": FIREFOX_ON_LINUX})
        await sign_in(elsewhere, ADA)
    notice = await smtp.wait_for_subject(ADA, NOTICE, 1)
    await settled(smtp)
    assert len(smtp.about(ADA, NOTICE)) == 1
    assert "Browser or app: Firefox on Linux" in text_of(notice)
    assert "/secure-account?token=" in text_of(notice)
    token = link_token(notice)

    secured = await app.post("/auth/account/secure", json={"token": token})

    assert secured.status_code == 204, secured.text
    await assert_access_rejected(app, mine.access_token)
    await assert_access_rejected(app, theirs.access_token)
    blocked = await app.post("/auth/login", json={"email": ADA, "password": PASSWORD})
    assert_problem(blocked, 401, "invalid_credentials")
    again = await app.post("/auth/account/secure", json={"token": token})
    assert_problem(again, 400, "invalid_secure_token")
    # The reset mail came by itself: the owner sets a new password, and it signs in.
    reset = link_token(await smtp.wait_for_subject(ADA, "Reset", 1))
    done = await app.post(
        "/auth/password/reset", json={"token": reset, "new_password": NEW_PASSWORD}
    )
    assert done.status_code == 204, done.text
    again_mine = await sign_in(app, ADA, NEW_PASSWORD)
    shown = await app.get("/auth/activity", headers=again_mine.headers)
    types = [entry["type"] for entry in shown.json()["activity"]]
    assert "account_secured" in types
    # Secured before the reset that followed it: newest first.
    assert types.index("password_reset") < types.index("account_secured")


async def a_notice_link(app: Client, make_client: Callable[..., Client], smtp: SmtpSink) -> str:
    """The "this wasn't me" token of a sign-in on a new device."""
    await sign_up(app, ADA, verified=True)
    async with make_client(smtp_url=smtp.url) as elsewhere:
        await sign_in(elsewhere, ADA)
    return link_token(await smtp.wait_for_subject(ADA, NOTICE, 1))


async def test_the_link_expires_after_seven_days(
    app: Client, make_client: Callable[..., Client], smtp: SmtpSink, clock: FakeClock
) -> None:
    token = await a_notice_link(app, make_client, smtp)
    clock.advance(7 * 24 * 3600 + 1)

    late = await app.post("/auth/account/secure", json={"token": token})

    assert_problem(late, 400, "invalid_secure_token")
    await sign_in(app, ADA)  # nothing was done: the password still signs in


async def test_the_link_works_until_its_seventh_day_ends(
    app: Client, make_client: Callable[..., Client], smtp: SmtpSink, clock: FakeClock
) -> None:
    token = await a_notice_link(app, make_client, smtp)
    clock.advance(7 * 24 * 3600 - 60)

    secured = await app.post("/auth/account/secure", json={"token": token})

    assert secured.status_code == 204, secured.text


async def test_a_client_without_cookies_names_its_device(app: Client, smtp: SmtpSink) -> None:
    await sign_up(app, ADA)
    app.cookies.clear()
    device = {**BODY_TRANSPORT, "X-Device-Id": "cli-0123456789abcdef"}
    for _ in range(3):
        answer = await app.post(
            "/auth/login", json={"email": ADA, "password": PASSWORD}, headers=device
        )
        assert answer.status_code == 200, answer.text
        assert not [c for c in set_cookies(answer) if c.name == "device"]
    await smtp.wait_for_subject(ADA, NOTICE, 1)  # new once, then known
    await settled(smtp)
    assert len(smtp.about(ADA, NOTICE)) == 1
