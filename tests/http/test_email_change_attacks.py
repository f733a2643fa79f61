"""An intruder who moved the account to their own address, and what the owner's way back
(the "this wasn't me" link mailed to the old address) must leave them: nothing. A chain of
changes, a provider account linked at their address, a passkey planted in an earlier
session, the owner who clicks only the new-device notice; and the held address refused
cleanly everywhere an account can be made (tests/http/test_email_change.py has the flow)."""

from __future__ import annotations

import asyncio
import re
from collections.abc import AsyncIterator, Callable
from typing import Any

import httpx
import pytest
from litestar.testing import AsyncTestClient

from application.devices import notice as notice_module
from tests.fakes.authenticator import SoftAuthenticator
from tests.fakes.clock import FakeClock
from tests.http.helpers import BASE_URL, PASSWORD, assert_problem, bearer, sign_in, sign_up
from tests.http.test_email_change import (
    ADA,
    CHANGED,
    EVE,
    NEW_PASSWORD,
    NOTICE,
    ask,
    change_link,
    intruder_moves_address_to_eve,
)
from tests.http.test_mfa_admin import passkey_sign_in
from tests.http.test_oauth import (
    APP_URL,
    REDIRECT_URI,
    google,
    sign_in_with_google,
    signed_in_user,
)
from tests.http.test_passkey_sign_up import options_for, verify
from tests.servers.oidc import FakeOidcProvider, FakeProfile
from tests.servers.smtp import SmtpSink, link_token, text_of

Client = AsyncTestClient[Any]
MAL = "mallory@example.test"
TYPO = "ada@exmaple.test"  # someone else's mailbox, mistyped by Ada at sign-up


@pytest.fixture
async def app(make_client: Callable[..., Client], smtp: SmtpSink) -> AsyncIterator[Client]:
    async with make_client(smtp_url=smtp.url, outbox_poll_interval=0.02) as client:
        yield client


async def address_after_reset(app: Client, smtp: SmtpSink, resets: int = 1) -> str:
    """The owner uses the ``resets``-th reset mail at ADA and signs in: the address then."""
    reset = link_token(await smtp.wait_for_subject(ADA, "Reset", resets))
    done = await app.post(
        "/auth/password/reset", json={"token": reset, "new_password": NEW_PASSWORD}
    )
    assert done.status_code == 204, done.text
    mine = await sign_in(app, ADA, NEW_PASSWORD)
    return str((await app.get("/auth/me", headers=mine.headers)).json()["user"]["email"])


async def chain_of_changes(
    make_client: Callable[..., Client], smtp: SmtpSink, clock: FakeClock
) -> None:
    """The intruder moves the account from ADA to EVE, and a minute later to MAL."""
    async with make_client(smtp_url=smtp.url) as elsewhere:
        intruder = await sign_in(elsewhere, ADA)
        await ask(elsewhere, intruder.headers, EVE)
        await elsewhere.post("/auth/email/change", json={"token": await change_link(smtp, EVE)})
        clock.advance(60)
        await ask(elsewhere, intruder.headers, MAL)
        await elsewhere.post("/auth/email/change", json={"token": await change_link(smtp, MAL)})


@pytest.mark.every_deployment
async def test_the_way_back_ends_the_intruders_own_way_back_of_a_later_change(
    app: Client, make_client: Callable[..., Client], smtp: SmtpSink, clock: FakeClock
) -> None:
    """The intruder moves ADA to EVE, then EVE to MAL, both theirs: the second change's
    notice, with a way back to EVE, goes to them. Once the owner took the account back, that
    link must not move it to EVE again and mail the reset there."""
    await sign_up(app, ADA, verified=True)
    await chain_of_changes(make_client, smtp, clock)
    owners = link_token(await smtp.wait_for_subject(ADA, CHANGED, 1))
    intruders = link_token(await smtp.wait_for_subject(EVE, CHANGED, 1))
    assert (await app.post("/auth/account/secure", json={"token": owners})).status_code == 204

    late = await app.post("/auth/account/secure", json={"token": intruders})

    assert_problem(late, 400, "invalid_secure_token")
    assert await address_after_reset(app, smtp) == ADA
    await asyncio.sleep(0.3)
    assert smtp.about(EVE, "Reset") == []


async def test_the_intruders_way_back_of_a_later_change_leaves_the_owners(
    app: Client, make_client: Callable[..., Client], smtp: SmtpSink, clock: FakeClock
) -> None:
    """The other order: the intruder clicks their own way back first; the owner's, from
    the earlier change, still gives the owner the account."""
    await sign_up(app, ADA, verified=True)
    await chain_of_changes(make_client, smtp, clock)
    intruders = link_token(await smtp.wait_for_subject(EVE, CHANGED, 1))
    assert (await app.post("/auth/account/secure", json={"token": intruders})).status_code == 204
    owners = link_token(await smtp.wait_for_subject(ADA, CHANGED, 1))

    mine = await app.post("/auth/account/secure", json={"token": owners})

    assert mine.status_code == 204, mine.text
    assert await address_after_reset(app, smtp) == ADA


async def test_a_provider_account_linked_at_the_intruders_address_goes_with_the_way_back(
    make_client: Callable[..., Client], smtp: SmtpSink
) -> None:
    """At EVE, the intruder signs in with their own Google account for EVE (its email
    verified): it links to the owner's account. After the way back, it must not reach it."""
    with FakeOidcProvider(redirect_uri=REDIRECT_URI) as idp:
        async with (
            httpx.AsyncClient(trust_env=False) as browser,
            make_client(
                smtp_url=smtp.url,
                outbox_poll_interval=0.02,
                oidc_providers=(google(idp),),
                app_url=APP_URL,
                return_to_allowlist=("/dashboard",),
            ) as app,
        ):
            app.follow_redirects = False
            owner = await sign_up(app, ADA, verified=True)
            owner_id = owner.body["user"]["id"]
            await intruder_moves_address_to_eve(make_client, smtp)
            idp.profile = FakeProfile(sub="eves-google-account", email=EVE, name="Eve")
            await sign_in_with_google(app, browser)
            assert (await signed_in_user(app))["id"] == owner_id  # linked, by its address
            app.cookies.clear()
            way_back = link_token(await smtp.wait_for_subject(ADA, CHANGED, 1))

            secured = await app.post("/auth/account/secure", json={"token": way_back})

            assert secured.status_code == 204, secured.text
            again = await sign_in_with_google(app, browser)
            assert again.status_code == 302, again.text
            assert (await signed_in_user(app))["id"] != owner_id  # a new account of theirs
            activity = await app.get(
                "/auth/activity", headers=(await sign_in_after_reset(app, smtp)).headers
            )
            types = [entry["type"] for entry in activity.json()["activity"]]
            assert "identity_unlinked" in types


async def sign_in_after_reset(app: Client, smtp: SmtpSink) -> Any:
    reset = link_token(await smtp.wait_for_subject(ADA, "Reset", 1))
    await app.post("/auth/password/reset", json={"token": reset, "new_password": NEW_PASSWORD})
    return await sign_in(app, ADA, NEW_PASSWORD)


async def test_the_new_device_notice_alone_gives_the_old_address_back(
    app: Client, make_client: Callable[..., Client], smtp: SmtpSink
) -> None:
    """The owner clicks only the first mail that alarmed them, the notice of the intruder's
    sign-in, mailed to ADA before the move. Left at EVE, the account would be the intruder's
    again at their next forgot-password."""
    await sign_up(app, ADA, verified=True)
    await intruder_moves_address_to_eve(make_client, smtp)
    device_notice = link_token(await smtp.wait_for_subject(ADA, NOTICE, 1))

    secured = await app.post("/auth/account/secure", json={"token": device_notice})

    assert secured.status_code == 204, secured.text
    assert await address_after_reset(app, smtp) == ADA
    assert (await app.post("/auth/password/forgot", json={"email": EVE})).status_code == 202
    await asyncio.sleep(0.3)
    assert smtp.about(EVE, "Reset") == []


async def planted_and_moved(
    client: Client,
    headers: dict[str, str],
    smtp: SmtpSink,
    clock: FakeClock,
    *,
    sign_the_others_out: bool = False,
) -> SoftAuthenticator:
    """From the session of ``headers``, the intruder adds a passkey of theirs; a minute
    later signs in with it (signing every other session out, if asked) and, a minute after,
    moves the account to EVE from that session. Their authenticator."""
    theirs = SoftAuthenticator(BASE_URL)
    options = await client.post("/auth/passkeys/register/options", headers=headers)
    added = await client.post(
        "/auth/passkeys/register/verify",
        json={"credential": theirs.create(options.json())},
        headers=headers,
    )
    assert added.status_code == 201, added.text
    clock.advance(60)
    second = await passkey_sign_in(client, theirs)
    assert second.status_code == 200, second.text
    with_passkey = bearer(second.json()["access_token"])
    if sign_the_others_out:
        out = await client.post("/auth/revoke", json={"keep_current": True}, headers=with_passkey)
        assert out.status_code == 204, out.text
    clock.advance(60)
    await ask(client, with_passkey, EVE)
    changed = await client.post("/auth/email/change", json={"token": await change_link(smtp, EVE)})
    assert changed.status_code == 200, changed.text
    return theirs


async def assert_the_way_back_takes_the_passkey(
    app: Client, make_client: Callable[..., Client], smtp: SmtpSink, theirs: SoftAuthenticator
) -> None:
    way_back = link_token(await smtp.wait_for_subject(ADA, CHANGED, 1))
    assert (await app.post("/auth/account/secure", json={"token": way_back})).status_code == 204
    async with make_client() as later:
        again = await passkey_sign_in(later, theirs)
    assert again.status_code == 401, again.text


async def test_a_passkey_planted_in_an_earlier_session_goes_with_the_way_back(
    app: Client, make_client: Callable[..., Client], smtp: SmtpSink, clock: FakeClock
) -> None:
    """The intruder signs in with the password (a new-device notice goes out) and adds a
    passkey; later signs in with that passkey and asks the change from that second session.
    The way back reaches back to the first sign-in the live notice reports."""
    await sign_up(app, ADA, verified=True)
    async with make_client(smtp_url=smtp.url) as elsewhere:
        first = await sign_in(elsewhere, ADA)
        clock.advance(60)
        theirs = await planted_and_moved(elsewhere, first.headers, smtp, clock)

    await assert_the_way_back_takes_the_passkey(app, make_client, smtp, theirs)


async def test_asking_for_an_address_held_for_a_way_back_answers_taken(
    app: Client, make_client: Callable[..., Client], smtp: SmtpSink
) -> None:
    await sign_up(app, ADA, verified=True)
    await intruder_moves_address_to_eve(make_client, smtp)
    other = await sign_up(app, MAL, verified=True)

    asked = await ask(app, other.headers, ADA)

    assert_problem(asked, 409, "email_taken")
    await asyncio.sleep(0.3)
    assert smtp.about(ADA, "Confirm your new email address") == []


@pytest.mark.every_deployment
async def test_every_sign_up_of_a_held_address_is_a_clean_refusal(
    make_client: Callable[..., Client], smtp: SmtpSink
) -> None:
    with FakeOidcProvider(redirect_uri=REDIRECT_URI) as idp:
        async with (
            httpx.AsyncClient(trust_env=False) as browser,
            make_client(
                smtp_url=smtp.url,
                outbox_poll_interval=0.02,
                email_signin=True,
                email_signup=True,
                oidc_providers=(google(idp),),
                app_url=APP_URL,
                return_to_allowlist=("/dashboard",),
            ) as app,
        ):
            app.follow_redirects = False
            await sign_up(app, ADA, verified=True)
            await intruder_moves_address_to_eve(make_client, smtp)

            registered = await app.post("/auth/register", json={"email": ADA, "password": PASSWORD})
            credential = SoftAuthenticator(BASE_URL).create(await options_for(app, ADA))
            by_passkey = await verify(app, credential)
            idp.profile = FakeProfile(sub="adas-google", email=ADA)
            by_google = await sign_in_with_google(app, browser)
            await app.post("/auth/email/signin/request", json={"email": ADA})
            mail = await smtp.wait_for_subject(ADA, "Your authgate sign-in code", 1)
            found = re.search(r"/email-sign-in\?token=([A-Za-z0-9_-]+)", text_of(mail))
            assert found, text_of(mail)
            by_link = await app.post("/auth/email/signin", json={"token": found.group(1)})

    for answer in (registered, by_passkey, by_google):
        assert_problem(answer, 409, "email_taken")
    assert_problem(by_link, 400, "invalid_email_link")


@pytest.mark.every_deployment
async def test_an_old_notice_at_a_never_verified_address_takes_nothing_back(
    app: Client, make_client: Callable[..., Client], smtp: SmtpSink, clock: FakeClock
) -> None:
    """Ada signs up with a typo, someone else's mailbox, never verified; signs in on her phone
    (the new-device notice goes to that mailbox), then fixes her address. The stranger who
    reads the typo'd mailbox clicks the old notice: it may sign Ada out, but must neither
    give the account their address nor mail them its reset."""
    ada = await sign_up(app, TYPO)
    async with make_client(smtp_url=smtp.url) as phone:
        await sign_in(phone, TYPO)
    notice = link_token(await smtp.wait_for_subject(TYPO, NOTICE, 1))
    clock.advance(60)
    await ask(app, ada.headers, ADA)
    await app.post(
        "/auth/email/change", json={"token": await change_link(smtp, ADA)}, headers=ada.headers
    )

    clicked = await app.post("/auth/account/secure", json={"token": notice})

    assert clicked.status_code == 204, clicked.text
    await smtp.wait_for_subject(ADA, "Reset", 1)  # to the account's proven address
    await asyncio.sleep(0.3)
    assert smtp.about(TYPO, "Reset") == []
    assert await address_after_reset(app, smtp) == ADA


async def test_a_passkey_planted_from_a_session_no_notice_reported_goes_with_the_way_back(
    app: Client, make_client: Callable[..., Client], smtp: SmtpSink, clock: FakeClock
) -> None:
    """A stolen fresh session (or the password typed on the owner's own computer: a known
    device, no notice) adds a passkey; the intruder signs in with it elsewhere and asks the
    change from there. The way back reaches back to every session live at the change."""
    owner = await sign_up(app, ADA, verified=True)  # the session the intruder steals
    async with make_client(smtp_url=smtp.url) as elsewhere:
        theirs = await planted_and_moved(elsewhere, owner.headers, smtp, clock)

    await assert_the_way_back_takes_the_passkey(app, make_client, smtp, theirs)


async def test_a_passkey_planted_from_a_stolen_session_the_intruder_then_ended_goes_too(
    app: Client, make_client: Callable[..., Client], smtp: SmtpSink, clock: FakeClock
) -> None:
    """As above, but from the passkey's session the intruder signs every other session
    out, the stolen one with it, before asking: none older than the passkey is live at the
    change. The way back reaches back a week before the change all the same."""
    owner = await sign_up(app, ADA, verified=True)  # the session the intruder steals
    async with make_client(smtp_url=smtp.url) as elsewhere:
        theirs = await planted_and_moved(
            elsewhere, owner.headers, smtp, clock, sign_the_others_out=True
        )

    await assert_the_way_back_takes_the_passkey(app, make_client, smtp, theirs)
    assert await address_after_reset(app, smtp) == ADA


async def test_the_address_replaced_by_the_way_back_is_told(app: Client, smtp: SmtpSink) -> None:
    """The owner moved away from a mailbox someone else reads now; that reader clicks the
    way back within the week. The owner, at the new address, must hear of it."""
    ada = await sign_up(app, ADA, verified=True)
    await ask(app, ada.headers, MAL)
    await app.post("/auth/email/change", json={"token": await change_link(smtp, MAL)})
    way_back = link_token(await smtp.wait_for_subject(ADA, CHANGED, 1))

    assert (await app.post("/auth/account/secure", json={"token": way_back})).status_code == 204

    told = await smtp.wait_for_subject(MAL, "Your account's address was given back", 1)
    assert "a***@example.test" in text_of(told)


async def test_one_address_asks_for_a_few_change_links_whatever_the_accounts(
    app: Client, smtp: SmtpSink
) -> None:
    """Throwaway accounts from one address must not make a mail cannon: 4x one account's
    links per hour from one IP, whatever the accounts."""
    answers = []
    for n in range(5):
        account = await sign_up(app, f"throwaway{n}@example.test")
        for m in range(3):
            answers.append(
                (await ask(app, account.headers, f"victim{n}{m}@example.test")).status_code
            )

    assert answers.count(202) == 12
    assert answers[12:] == [429, 429, 429]


@pytest.mark.every_deployment
async def test_a_notice_written_after_the_way_back_never_reaches_the_intruders_address(
    concurrent_client: Callable[..., Any], smtp: SmtpSink, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The intruder moved the account to EVE and signs in once more from a new device; that
    sign-in has passed its last look when the owner's way back runs (every "this wasn't me"
    link dies, ADA comes back). Its notice, written after, must not put a live link at EVE:
    clicking it would give EVE back, with the reset."""
    async with concurrent_client(smtp_url=smtp.url, outbox_poll_interval=0.02) as app:
        await sign_up(app, ADA, verified=True)
        intruder = await sign_in(app, ADA, headers={"X-Device-Id": "i" * 24})
        assert (await ask(app, intruder.headers, EVE)).status_code == 202
        token = await change_link(smtp, EVE)
        taken = await app.post(
            "/auth/email/change", json={"token": token}, headers=intruder.headers
        )
        assert taken.status_code == 200, taken.text
        checked, go_on = asyncio.Event(), asyncio.Event()
        real = notice_module.NewDeviceNotice._mail_owner

        async def slow_to_mail(self: Any, user: Any, *args: Any) -> bool:
            if user.email == EVE:
                checked.set()
                await go_on.wait()
            return await real(self, user, *args)

        monkeypatch.setattr(notice_module.NewDeviceNotice, "_mail_owner", slow_to_mail)
        app.cookies.clear()  # the intruder's own browser
        login = asyncio.create_task(
            app.post(
                "/auth/login",
                json={"email": EVE, "password": PASSWORD},
                headers={"X-Device-Id": "n" * 24},
            )
        )
        await asyncio.wait_for(checked.wait(), 10)
        way_back = link_token(await smtp.wait_for_subject(ADA, CHANGED, 1))
        owner = await app.post("/auth/account/secure", json={"token": way_back})
        assert owner.status_code == 204, owner.text
        go_on.set()
        await login

        await asyncio.sleep(0.5)  # the outbox delivers
        assert smtp.about(EVE, NOTICE) == []
