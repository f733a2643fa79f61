"""Sign-in by a mailed code or link over HTTP: the feature switch, the 202 that says nothing
about the address, the cookie that binds the code to the browser, body transport, the race
for one grant. The grant's rules are proven in tests/unit/test_email_sign_in.py."""

from __future__ import annotations

import asyncio
import re
from collections import Counter
from collections.abc import AsyncIterator, Callable
from typing import Any

import pytest
from litestar.testing import AsyncTestClient

from tests.fakes.clock import FakeClock
from tests.http.helpers import (
    BODY_TRANSPORT,
    assert_problem,
    assert_token_body,
    jwt_parts,
    open_connections,
    set_cookies,
    sign_up,
    the_refresh_cookie,
)
from tests.servers.smtp import SmtpSink, html_of, text_of
from tests.servers.turnstile import FakeTurnstile

Client = AsyncTestClient[Any]
ADA = "ada@example.test"
CODE = re.compile(r"Your code is (\d{6})\.")
LINK = re.compile(r"/email-sign-in\?token=([A-Za-z0-9_-]+)")


@pytest.fixture
async def app(make_client: Callable[..., Client], smtp: SmtpSink) -> AsyncIterator[Client]:
    async with make_client(
        smtp_url=smtp.url, outbox_poll_interval=0.02, email_signin=True
    ) as client:
        yield client


async def ask(client: Any, email: str = ADA, **headers: str) -> Any:
    answer = await client.post("/auth/email/signin/request", json={"email": email}, headers=headers)
    assert answer.status_code == 202, answer.text
    return answer


async def mailed(smtp: SmtpSink, number: int = 1, email: str = ADA) -> tuple[str, str]:
    """The code and the link token of the ``number``-th sign-in mail."""
    message = await smtp.wait_for_subject(email, "Your authgate sign-in code", number)
    text = text_of(message)
    code, link = CODE.search(text), LINK.search(text)
    assert code is not None, text
    assert link is not None, text
    assert link.group(1) in html_of(message)
    return code.group(1), link.group(1)


async def test_off_by_default_both_endpoints_answer_404(client: Client) -> None:
    asked = await client.post("/auth/email/signin/request", json={"email": ADA})
    assert_problem(asked, 404, "not_found")
    used = await client.post("/auth/email/signin", json={"token": "x" * 43})
    assert_problem(used, 404, "not_found")


async def test_the_code_signs_this_browser_in_with_amr_email_and_proves_the_mailbox(
    app: Client, smtp: SmtpSink
) -> None:
    await sign_up(app, ADA)
    await ask(app)
    code, _ = await mailed(smtp)

    signed_in = await app.post("/auth/email/signin", json={"email": ADA, "code": code})

    assert signed_in.status_code == 200, signed_in.text
    body = signed_in.json()
    assert_token_body(body, user=True)
    assert body["user"]["email_verified"] is True
    the_refresh_cookie(signed_in)
    _, claims = jwt_parts(body["access_token"])
    assert claims["amr"] == ["email"]
    assert claims["acr"] == "aal1"
    pending = [c for c in set_cookies(signed_in) if c.name == "signin_pending"]
    assert pending[0].attributes.get("max-age") == "0"  # the binding is spent with the grant


async def test_the_pending_cookie_is_httponly_strict_and_narrow(app: Client) -> None:
    answer = await ask(app)
    [pending] = [c for c in set_cookies(answer) if c.name == "signin_pending"]
    assert len(pending.value) >= 43
    assert "httponly" in pending.attributes
    assert "secure" in pending.attributes
    assert pending.attributes["samesite"] == "strict"
    assert pending.attributes["path"] == "/auth/email/signin"
    assert pending.attributes["max-age"] == "600"
    assert "request_id" not in answer.json()


async def test_a_code_typed_in_another_browser_is_refused(
    app: Client, make_client: Callable[..., Client], smtp: SmtpSink
) -> None:
    await sign_up(app, ADA, verified=True)
    await ask(app)
    code, _ = await mailed(smtp)
    async with make_client(smtp_url=smtp.url, email_signin=True) as elsewhere:
        refused = await elsewhere.post("/auth/email/signin", json={"email": ADA, "code": code})
        assert_problem(refused, 401, "invalid_email_code")
    accepted = await app.post("/auth/email/signin", json={"email": ADA, "code": code})
    assert accepted.status_code == 200, accepted.text


async def test_the_link_signs_in_any_device_and_spends_the_code(
    app: Client, make_client: Callable[..., Client], smtp: SmtpSink
) -> None:
    await sign_up(app, ADA, verified=True)
    await ask(app)
    code, token = await mailed(smtp)
    async with make_client(smtp_url=smtp.url, email_signin=True) as phone:
        signed_in = await phone.post("/auth/email/signin", json={"token": token})
        assert signed_in.status_code == 200, signed_in.text
        again = await phone.post("/auth/email/signin", json={"token": token})
        assert_problem(again, 400, "invalid_email_link")
    spent = await app.post("/auth/email/signin", json={"email": ADA, "code": code})
    assert_problem(spent, 401, "invalid_email_code")


async def test_a_client_without_cookies_binds_the_code_with_the_request_id(
    app: Client, smtp: SmtpSink
) -> None:
    await sign_up(app, ADA, verified=True)
    answer = await ask(app, **BODY_TRANSPORT)
    assert not [c for c in set_cookies(answer) if c.name == "signin_pending"]
    request_id = answer.json()["request_id"]
    code, _ = await mailed(smtp)
    app.cookies.clear()

    signed_in = await app.post(
        "/auth/email/signin",
        json={"email": ADA, "code": code, "request_id": request_id},
        headers=BODY_TRANSPORT,
    )

    assert signed_in.status_code == 200, signed_in.text
    assert_token_body(signed_in.json(), user=True, in_body=True)


async def test_known_and_unknown_addresses_get_the_same_answer(app: Client) -> None:
    await sign_up(app, ADA, verified=True)
    app.cookies.clear()
    known = await ask(app, ADA)
    unknown = await ask(app, "nobody@example.test")

    assert known.status_code == unknown.status_code == 202
    assert known.json() == unknown.json()

    def shape(response: Any) -> dict[str, Any]:
        headers = {
            k: v
            for k, v in response.headers.items()
            if k not in {"set-cookie", "date", "x-request-id"}
        }
        cookies = [(c.name, c.attributes) for c in set_cookies(response)]
        return {"headers": headers, "cookies": cookies}

    assert shape(known) == shape(unknown)


async def test_an_unknown_address_gets_no_mail(app: Client, smtp: SmtpSink) -> None:
    await ask(app, "nobody@example.test")
    await ask(app, ADA)  # to an existing address nothing was sent either: no account
    await asyncio.sleep(0.2)
    assert smtp.to("nobody@example.test") == []


async def test_with_sign_up_on_the_first_code_creates_a_verified_account_without_password(
    make_client: Callable[..., Client], smtp: SmtpSink
) -> None:
    async with make_client(
        smtp_url=smtp.url, outbox_poll_interval=0.02, email_signin=True, email_signup=True
    ) as app:
        await ask(app, "new@example.test")
        code, _ = await mailed(smtp, email="new@example.test")
        signed_in = await app.post(
            "/auth/email/signin", json={"email": "new@example.test", "code": code}
        )
        assert signed_in.status_code == 200, signed_in.text
        assert signed_in.json()["user"]["email_verified"] is True
        password = await app.post(
            "/auth/login", json={"email": "new@example.test", "password": "anything at all"}
        )
        assert_problem(password, 401, "invalid_credentials")


@pytest.mark.every_deployment
async def test_of_concurrent_spends_of_one_grant_exactly_one_signs_in(
    concurrent_client: Any, clock: FakeClock, smtp: SmtpSink
) -> None:
    async with concurrent_client(
        smtp_url=smtp.url, outbox_poll_interval=0.02, email_signin=True, login_limit=1000
    ) as client:
        device = await sign_up(client, ADA, verified=True)
        await ask(client)
        code, token = await mailed(smtp)
        await open_connections(client, device.access_token, 6)
        responses = await asyncio.gather(
            *(
                client.post("/auth/email/signin", json={"email": ADA, "code": code})
                for _ in range(3)
            ),
            *(client.post("/auth/email/signin", json={"token": token}) for _ in range(3)),
        )
    assert Counter(r.status_code for r in responses)[200] == 1, [r.text for r in responses]


async def test_turnstile_guards_the_request_when_enabled(
    make_client: Callable[..., Client], smtp: SmtpSink
) -> None:
    with FakeTurnstile() as turnstile:
        async with make_client(
            smtp_url=smtp.url,
            email_signin=True,
            outbox_poll_interval=0.02,
            turnstile_secret="1x0000000000000000000000000000000AA",
            turnstile_verify_url=turnstile.url,
        ) as client:
            await sign_up(client, ADA, turnstile_token="token-from-the-widget")
            unsolved = await client.post("/auth/email/signin/request", json={"email": ADA})
            solved = await client.post(
                "/auth/email/signin/request",
                json={"email": ADA, "turnstile_token": "token-from-the-widget"},
            )
            await mailed(smtp, 1)
            await asyncio.sleep(0.3)

    assert_problem(unsolved, 403, "captcha_failed")
    assert solved.status_code == 202, solved.text
    assert len(smtp.about(ADA, "Your authgate sign-in code")) == 1  # none for the refused one
