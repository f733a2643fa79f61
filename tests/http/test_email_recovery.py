"""Email ownership and account recovery over HTTP, with mails delivered by the outbox sender
to a real SMTP server on loopback (tests/servers/smtp.py): read the message, follow its link."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from typing import Any

import pytest
from litestar.testing import AsyncTestClient

from tests.fakes.clock import FakeClock
from tests.http.helpers import (
    PASSWORD,
    assert_access_rejected,
    assert_access_works,
    assert_problem,
    bearer,
    no_refresh_cookie,
    refresh_with,
    sign_in,
    sign_up,
)
from tests.servers.smtp import SmtpSink, html_of, link_token, text_of

Client = AsyncTestClient[Any]
ADA = "ada@example.test"
NEW_PASSWORD = "a much better passphrase"


@pytest.fixture
async def app(make_client: Callable[..., Client], smtp: SmtpSink) -> AsyncIterator[Client]:
    async with make_client(smtp_url=smtp.url, outbox_poll_interval=0.02) as client:
        yield client


async def verification_token(smtp: SmtpSink, email: str = ADA, number: int = 1) -> str:
    return link_token(await smtp.wait_for_subject(email, "Confirm", number))


async def reset_token(app: Client, smtp: SmtpSink, email: str = ADA) -> str:
    before = len(smtp.about(email, "Reset"))
    answer = await app.post("/auth/password/forgot", json={"email": email})
    assert answer.status_code == 202, answer.text
    return link_token(await smtp.wait_for_subject(email, "Reset", before + 1))


async def test_register_mails_a_link_that_verifies_the_email(app: Client, smtp: SmtpSink) -> None:
    device = await sign_up(app, ADA)
    assert device.body["user"]["email_verified"] is False

    message = await smtp.wait_for(ADA)

    assert message["Subject"] == "Confirm your email address for authgate"
    assert message.is_multipart()
    text, html = text_of(message), html_of(message)
    token = link_token(message)
    assert f"/verify-email?token={token}" in text
    assert "expires in 24 hours" in text
    assert "If you did not create" in text
    assert token in html
    assert len(token) >= 43
    verified = await app.post("/auth/email/verify", json={"token": token})
    assert verified.status_code == 200, verified.text
    assert verified.json()["user"]["email_verified"] is True
    me = await app.get("/auth/me", headers=device.headers)
    assert me.json()["user"]["email_verified"] is True
    again = await app.post("/auth/email/verify", json={"token": token})
    assert_problem(again, 400, "invalid_verification_token")


async def test_me_shows_the_verified_email_at_once_though_it_was_just_read(
    app: Client, smtp: SmtpSink
) -> None:
    device = await sign_up(app, ADA)
    before = await app.get("/auth/me", headers=device.headers)  # the profile is cached now

    verified = await app.post("/auth/email/verify", json={"token": await verification_token(smtp)})
    after = await app.get("/auth/me", headers=device.headers)

    assert before.json()["user"]["email_verified"] is False
    assert verified.status_code == 200, verified.text
    assert after.json()["user"]["email_verified"] is True


async def test_forgot_then_reset_sets_the_password_and_ends_every_session(
    app: Client, smtp: SmtpSink
) -> None:
    first = await sign_up(app, ADA)
    second = await sign_in(app, ADA)
    older = await reset_token(app, smtp)
    token = await reset_token(app, smtp)
    message = smtp.to(ADA)[-1]
    assert "expires in 30 minutes" in text_of(message)
    assert "If you did not ask for this" in text_of(message)

    answer = await app.post(
        "/auth/password/reset", json={"token": token, "new_password": NEW_PASSWORD}
    )

    assert answer.status_code == 204, answer.text
    for device in (first, second):
        await assert_access_rejected(app, device.access_token)
        assert (await refresh_with(app, device.refresh_token)).status_code == 401
    wrong = await app.post("/auth/login", json={"email": ADA, "password": PASSWORD})
    assert_problem(wrong, 401, "invalid_credentials")
    signed_in = await sign_in(app, ADA, NEW_PASSWORD)
    assert signed_in.body["user"]["email_verified"] is True  # the mail proved the address
    for used in (token, older):  # used, and every other reset link died with it
        replay = await app.post(
            "/auth/password/reset", json={"token": used, "new_password": "yet another one"}
        )
        assert_problem(replay, 400, "invalid_reset_token")


async def test_forgot_answers_the_same_for_an_unknown_email_and_mails_nothing(
    app: Client, smtp: SmtpSink
) -> None:
    await sign_up(app, ADA)
    await smtp.wait_for(ADA)

    known = await app.post("/auth/password/forgot", json={"email": ADA})
    unknown = await app.post("/auth/password/forgot", json={"email": "nobody@example.test"})

    assert (known.status_code, unknown.status_code) == (202, 202)
    assert known.json() == unknown.json()
    await smtp.wait_for_subject(ADA, "Reset", 1)
    assert smtp.to("nobody@example.test") == []


async def test_a_token_of_one_kind_never_serves_the_other(app: Client, smtp: SmtpSink) -> None:
    await sign_up(app, ADA)
    verify = await verification_token(smtp)
    reset = await reset_token(app, smtp)

    as_verify = await app.post("/auth/email/verify", json={"token": reset})
    as_reset = await app.post(
        "/auth/password/reset", json={"token": verify, "new_password": NEW_PASSWORD}
    )

    assert_problem(as_verify, 400, "invalid_verification_token")
    assert_problem(as_reset, 400, "invalid_reset_token")
    await sign_in(app, ADA)  # the password is unchanged
    assert (await app.post("/auth/email/verify", json={"token": verify})).status_code == 200


async def test_expired_tokens_are_refused(app: Client, smtp: SmtpSink, clock: FakeClock) -> None:
    await sign_up(app, ADA)
    verify = await verification_token(smtp)
    reset = await reset_token(app, smtp)

    clock.advance(30 * 60 + 1)
    expired_reset = await app.post(
        "/auth/password/reset", json={"token": reset, "new_password": NEW_PASSWORD}
    )
    clock.advance(24 * 3600)
    expired_verify = await app.post("/auth/email/verify", json={"token": verify})

    assert_problem(expired_reset, 400, "invalid_reset_token")
    assert_problem(expired_verify, 400, "invalid_verification_token")
    await sign_in(app, ADA)


async def test_verification_can_be_asked_again_three_times_an_hour(
    app: Client, smtp: SmtpSink
) -> None:
    device = await sign_up(app, ADA)

    answers = [
        await app.post("/auth/email/verify/request", headers=device.headers) for _ in range(4)
    ]

    assert [a.status_code for a in answers[:3]] == [202, 202, 202]
    assert_problem(answers[3], 429, "too_many_requests")
    latest = await verification_token(smtp, number=4)  # register's mail did not count
    assert (await app.post("/auth/email/verify", json={"token": latest})).status_code == 200
    verified = await app.post("/auth/email/verify/request", headers=device.headers)
    assert_problem(verified, 409, "email_already_verified")
    anonymous = await app.post("/auth/email/verify/request")
    assert_problem(anonymous, 401, "invalid_token")


async def test_forgot_is_limited_per_account_whether_or_not_it_exists(app: Client) -> None:
    for email in (ADA, "nobody@example.test"):
        answers = [await app.post("/auth/password/forgot", json={"email": email}) for _ in range(6)]
        assert [a.status_code for a in answers[:5]] == [202] * 5
        assert_problem(answers[5], 429, "too_many_requests")


async def test_change_password_keeps_this_session_and_ends_the_others(app: Client) -> None:
    this = await sign_up(app, ADA)
    other = await sign_in(app, ADA)
    body = {"current_password": PASSWORD, "new_password": NEW_PASSWORD}

    wrong = await app.post(
        "/auth/password/change", json={**body, "current_password": "not it!"}, headers=this.headers
    )
    changed = await app.post("/auth/password/change", json=body, headers=this.headers)

    assert_problem(wrong, 401, "invalid_credentials")
    assert changed.status_code == 204, changed.text
    await assert_access_works(app, this.access_token)
    assert (await refresh_with(app, this.refresh_token)).status_code == 200
    await assert_access_rejected(app, other.access_token)
    assert (await refresh_with(app, other.refresh_token)).status_code == 401
    await sign_in(app, ADA, NEW_PASSWORD)
    anonymous = await app.post("/auth/password/change", json=body)
    assert_problem(anonymous, 401, "invalid_token")


async def test_with_required_verification_register_gives_no_session_and_login_waits(
    make_client: Callable[..., Client], smtp: SmtpSink
) -> None:
    settings = {"smtp_url": smtp.url, "outbox_poll_interval": 0.02, "require_verified_email": True}
    async with make_client(**settings) as app:
        registered = await app.post("/auth/register", json={"email": ADA, "password": PASSWORD})
        assert registered.status_code == 201, registered.text
        assert registered.json()["email_verification_required"] is True
        assert set(registered.json()) == {"user", "email_verification_required"}
        assert no_refresh_cookie(registered)
        wrong = await app.post("/auth/login", json={"email": ADA, "password": "not it!"})
        unverified = await app.post("/auth/login", json={"email": ADA, "password": PASSWORD})
        assert_problem(wrong, 401, "invalid_credentials")
        assert_problem(unverified, 403, "email_not_verified")

        token = await verification_token(smtp)
        assert (await app.post("/auth/email/verify", json={"token": token})).status_code == 200

        device = await sign_in(app, ADA)
        me = await app.get("/auth/me", headers=bearer(device.access_token))
        assert me.json()["user"]["email_verified"] is True
