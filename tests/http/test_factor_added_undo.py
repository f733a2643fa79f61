"""A factor added with a stolen access token (taken within the step-up window: no cookie, no
password) is one its owner could not remove: removal wants aal2, which only the planter's
factor gives, and a password reset keeps factors added on a verified address. The notice of
a factor added therefore carries the "this wasn't me" link of a new-device notice: it removes
that factor and every one added since, ends every session and blocks the password; and while
it lives, any notice's link reaches back to it (OWASP ASVS 5.0 V6.4.3, V6.3.7)."""

from __future__ import annotations

from typing import Any

from litestar.testing import AsyncTestClient

from tests.fakes.authenticator import SoftAuthenticator
from tests.fakes.clock import FakeClock
from tests.http.helpers import BASE_URL, PASSWORD, bearer, sign_up
from tests.http.mfa_helpers import App
from tests.http.test_email_recovery import app, reset_token
from tests.http.test_passkeys import login_options, sign_in_with
from tests.servers.smtp import SmtpSink, link_token, text_of

Client = AsyncTestClient[Any]
OWNER = "ada@example.test"
NEW = "the owner's new password"

__all__ = ["app"]  # the fixture: a client whose mail goes to the SMTP sink


async def thief_adds_a_passkey(app: Client, stolen: dict[str, str]) -> SoftAuthenticator:
    thief = SoftAuthenticator(BASE_URL)
    options = await app.post("/auth/passkeys/register/options", headers=stolen)
    assert options.status_code == 200, options.text
    added = await app.post(
        "/auth/passkeys/register/verify",
        json={"credential": thief.create(options.json()), "name": "Laptop"},
        headers=stolen,
    )
    assert added.status_code == 201, added.text
    return thief


async def test_the_passkey_added_notice_undoes_a_passkey_planted_with_a_stolen_access_token(
    app: Client, smtp: SmtpSink, clock: FakeClock
) -> None:
    owner = await sign_up(app, OWNER, verified=True)
    clock.advance(60)
    thief = await thief_adds_a_passkey(app, owner.headers)
    clock.advance(3600)
    notice = await smtp.wait_for_subject(OWNER, "A passkey was added", 1)
    assert "this link" in text_of(notice)

    secured = await app.post("/auth/account/secure", json={"token": link_token(notice)})

    assert secured.status_code == 204, secured.text
    again = await sign_in_with(app, thief.get(await login_options(app)))
    assert again.status_code == 401, again.text
    # The owner, through the reset the click mailed, signs in and finds no passkey.
    reset = {"token": await reset_token(app, smtp, OWNER), "new_password": NEW}
    assert (await app.post("/auth/password/reset", json=reset)).status_code == 204
    login = await app.post("/auth/login", json={"email": OWNER, "password": NEW})
    assert login.status_code == 200, login.text
    mine = bearer(login.json()["access_token"])
    assert (await app.get("/auth/passkeys", headers=mine)).json()["passkeys"] == []


async def test_a_new_device_notice_reaches_back_to_a_passkey_added_before_its_sign_in(
    app: Client, smtp: SmtpSink, clock: FakeClock
) -> None:
    """The thief signs in with the passkey an hour later: that sign-in's own notice undoes
    the passkey too, though it was added before the sign-in."""
    owner = await sign_up(app, OWNER, verified=True)
    clock.advance(60)
    thief = await thief_adds_a_passkey(app, owner.headers)
    clock.advance(3600)
    device = {"X-Device-Id": "t" * 20}
    first = await sign_in_with(app, thief.get(await login_options(app)), headers=device)
    assert first.status_code == 200, first.text
    notice = await smtp.wait_for_subject(OWNER, "New sign-in", 1)

    secured = await app.post("/auth/account/secure", json={"token": link_token(notice)})

    assert secured.status_code == 204, secured.text
    clock.advance(60)
    again = await sign_in_with(app, thief.get(await login_options(app)), headers=device)
    assert again.status_code == 401, again.text


async def test_the_app_turned_on_notice_undoes_an_app_planted_with_a_stolen_access_token(
    app: Client, smtp: SmtpSink, clock: FakeClock
) -> None:
    owner = await sign_up(app, OWNER, verified=True)
    stolen = owner.headers
    clock.advance(60)
    setup = await app.post("/auth/mfa/totp/setup", headers=stolen)
    assert setup.status_code == 200, setup.text
    clock.advance(60)  # the code read off the thief's phone
    code = App(setup.json()["secret"], clock).code()
    confirmed = await app.post("/auth/mfa/totp/confirm", json={"code": code}, headers=stolen)
    assert confirmed.status_code == 200, confirmed.text
    clock.advance(3600)
    notice = await smtp.wait_for_subject(OWNER, "An authenticator app was turned on", 1)

    secured = await app.post("/auth/account/secure", json={"token": link_token(notice)})

    assert secured.status_code == 204, secured.text
    reset = {"token": await reset_token(app, smtp, OWNER), "new_password": NEW}
    assert (await app.post("/auth/password/reset", json=reset)).status_code == 204
    # One factor again: the password alone signs in, no code asked.
    login = await app.post("/auth/login", json={"email": OWNER, "password": NEW})
    assert login.status_code == 200, login.text
    assert (
        await app.post("/auth/login", json={"email": OWNER, "password": PASSWORD})
    ).status_code == 401


async def test_an_app_set_up_a_week_before_its_first_code_still_gets_a_live_link(
    app: Client, smtp: SmtpSink, clock: FakeClock
) -> None:
    """The link reaches back to the app's setup; issued as of then, it died before it was
    mailed. It lives a day at least."""
    owner = await sign_up(app, OWNER, verified=True)
    setup = await app.post("/auth/mfa/totp/setup", headers=owner.headers)
    assert setup.status_code == 200, setup.text
    clock.advance(8 * 86400)
    again = await app.post("/auth/login", json={"email": OWNER, "password": PASSWORD})
    assert again.status_code == 200, again.text
    fresh = bearer(again.json()["access_token"])
    code = App(setup.json()["secret"], clock).code()
    confirmed = await app.post("/auth/mfa/totp/confirm", json={"code": code}, headers=fresh)
    assert confirmed.status_code == 200, confirmed.text
    notice = await smtp.wait_for_subject(OWNER, "An authenticator app was turned on", 1)
    assert "expires in 24 hours" in text_of(notice)

    secured = await app.post("/auth/account/secure", json={"token": link_token(notice)})

    assert secured.status_code == 204, secured.text
    reset = {"token": await reset_token(app, smtp, OWNER), "new_password": NEW}
    assert (await app.post("/auth/password/reset", json=reset)).status_code == 204
    login = await app.post("/auth/login", json={"email": OWNER, "password": NEW})
    assert login.status_code == 200, login.text  # the app went: no code asked
