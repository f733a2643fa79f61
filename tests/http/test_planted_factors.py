"""The review's attacks on second factors, over HTTP: someone who signs up with another
person's address (unverified) can enrol nothing, and a passkey planted before that rule does
not outlive the owner's password reset."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from typing import Any

import pytest
from litestar.testing import AsyncTestClient

from interfaces.bootstrap.backends import open_database
from tests.fakes.authenticator import SoftAuthenticator
from tests.fakes.clock import FakeClock
from tests.http.helpers import (
    BASE_URL,
    THIS_TEST,
    assert_problem,
    sign_up,
    verify_address,
)
from tests.http.test_email_recovery import reset_token
from tests.http.test_email_sign_in import CODE
from tests.http.test_passkeys import login_options, register, sign_in_with
from tests.servers.smtp import SmtpSink, link_token, text_of

Client = AsyncTestClient[Any]
OWNER = "owner@example.test"


@pytest.fixture
async def app(make_client: Callable[..., Client], smtp: SmtpSink) -> AsyncIterator[Client]:
    async with make_client(smtp_url=smtp.url, outbox_poll_interval=0.02) as client:
        yield client


async def forget_verification(email: str) -> None:
    """The address unverified again: a factor enrolled before now was enrolled unverified,
    as every factor was before enrolment needed a verified address."""
    assert THIS_TEST.settings is not None
    database = open_database(THIS_TEST.settings)
    try:
        async with database.transaction(write=True) as tx:
            await tx.execute("UPDATE users SET email_verified_at = NULL WHERE email = $1", email)
    finally:
        await database.close()


async def test_an_unverified_sign_up_cannot_plant_an_app_or_a_passkey(client: Client):
    intruder = await sign_up(client, OWNER)

    setup = await client.post("/auth/mfa/totp/setup", headers=intruder.headers)
    options = await client.post("/auth/passkeys/register/options", headers=intruder.headers)

    assert_problem(setup, 403, "email_not_verified")
    assert_problem(options, 403, "email_not_verified")
    factors = await client.get("/auth/mfa", headers=intruder.headers)
    assert factors.json()["totp"] is False


async def test_a_planted_passkey_does_not_survive_the_owners_password_reset(
    app: Client, smtp: SmtpSink, clock: FakeClock
):
    intruder = await sign_up(app, OWNER)
    authenticator = SoftAuthenticator(BASE_URL)
    await verify_address(OWNER)
    assert (await register(app, intruder, authenticator)).status_code == 201
    await forget_verification(OWNER)  # data from before the rule: planted unverified
    clock.advance(60)

    token = await reset_token(app, smtp, OWNER)
    reset = await app.post(
        "/auth/password/reset", json={"token": token, "new_password": "the owner's own one"}
    )
    assert reset.status_code == 204, reset.text

    planted = authenticator.get(await login_options(app))
    assert_problem(await sign_in_with(app, planted), 401, "invalid_passkey")
    await smtp.wait_for_subject(OWNER, "Second factors were removed", 1)


# --- Passkey-first accounts (tests/unit/test_planted_factors.py has every case) ------------


async def passkey_first(app: Client, authenticator: SoftAuthenticator) -> dict[str, Any]:
    options = await app.post("/auth/passkeys/signup/options", json={"email": OWNER})
    assert options.status_code == 200, options.text
    created = await app.post(
        "/auth/passkeys/signup/verify", json={"credential": authenticator.create(options.json())}
    )
    assert created.status_code == 201, created.text
    body: dict[str, Any] = created.json()
    return body


@pytest.mark.every_deployment
async def test_the_verification_link_keeps_the_sign_up_passkey_of_a_passkey_first_account(
    app: Client, smtp: SmtpSink, clock: FakeClock
):
    owner = SoftAuthenticator(BASE_URL)
    await passkey_first(app, owner)
    clock.advance(60)

    token = link_token(await smtp.wait_for_subject(OWNER, "Confirm", 1))
    assert (await app.post("/auth/email/verify", json={"token": token})).status_code == 200

    signed_in = await sign_in_with(app, owner.get(await login_options(app)))
    assert signed_in.status_code == 200, signed_in.text
    assert signed_in.json()["user"]["email_verified"] is True


@pytest.mark.every_deployment
@pytest.mark.parametrize("opened_the_verification", [False, True])
async def test_the_owners_reset_removes_a_strangers_passkey_first_sign_up_passkey(
    app: Client, smtp: SmtpSink, clock: FakeClock, opened_the_verification: bool
):
    """Also once the owner opened the "Confirm your email address" mail the stranger's
    sign-up sent (a click proves the mailbox, not who made the passkey): else the passkey
    stayed, and the owner, whose password is one factor, could never remove it (removal
    wants aal2)."""
    stranger = SoftAuthenticator(BASE_URL)
    await passkey_first(app, stranger)
    clock.advance(60)
    if opened_the_verification:
        token = link_token(await smtp.wait_for_subject(OWNER, "Confirm", 1))
        assert (await app.post("/auth/email/verify", json={"token": token})).status_code == 200
        clock.advance(60)

    token = await reset_token(app, smtp, OWNER)
    reset = await app.post(
        "/auth/password/reset", json={"token": token, "new_password": "the owner's own one"}
    )

    assert reset.status_code == 204, reset.text
    assert_problem(
        await sign_in_with(app, stranger.get(await login_options(app))), 401, "invalid_passkey"
    )


@pytest.mark.every_deployment
async def test_the_owners_email_sign_in_removes_a_strangers_passkey_first_sign_up_passkey(
    make_client: Callable[..., Client], smtp: SmtpSink, clock: FakeClock
):
    """The mailed code proves the mailbox as a reset does: the owner signs in without the
    passkey someone set up with their address, and that passkey goes with the takeover."""
    async with make_client(smtp_url=smtp.url, outbox_poll_interval=0.02, email_signin=True) as app:
        stranger = SoftAuthenticator(BASE_URL)
        await passkey_first(app, stranger)
        clock.advance(60)

        asked = await app.post("/auth/email/signin/request", json={"email": OWNER})
        assert asked.status_code == 202, asked.text
        code = CODE.search(
            text_of(await smtp.wait_for_subject(OWNER, "Your authgate sign-in code", 1))
        )
        assert code is not None
        owner = await app.post("/auth/email/signin", json={"email": OWNER, "code": code.group(1)})
        assert owner.status_code == 200, owner.text

        assert_problem(
            await sign_in_with(app, stranger.get(await login_options(app))), 401, "invalid_passkey"
        )
