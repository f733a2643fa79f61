"""Changing the email address over HTTP: asked with a recent proof, confirmed by the new
mailbox, told to the old one with a "this wasn't me" link that gives it back. And the ways
in an intruder would try: a stolen session's change after the owner took the account back,
links mailed to the old address, a race for one link."""

from __future__ import annotations

import asyncio
import json
import re
from collections.abc import AsyncIterator, Callable
from typing import Any

import pytest
from litestar.testing import AsyncTestClient

from infrastructure.config import Settings
from tests.fakes.clock import FakeClock
from tests.http.admin_helpers import an_admin
from tests.http.helpers import (
    PASSWORD,
    assert_access_rejected,
    assert_access_works,
    assert_problem,
    sign_in,
    sign_up,
)
from tests.http.mfa_helpers import enable_totp, rows
from tests.servers.smtp import SmtpSink, link_token, text_of

Client = AsyncTestClient[Any]
ADA = "ada@example.test"
NEW = "ada.lovelace@example.test"
EVE = "eve@example.test"
CONFIRM = "Confirm your new email address"
CHANGED = "Your email address was changed"
NEW_PASSWORD = "a much better passphrase"
THEIRS = "the intruder's own passphrase"
NOTICE = "New sign-in to your authgate account"
CHANGE_LINK = re.compile(r"/change-email\?token=([A-Za-z0-9_-]+)")


@pytest.fixture
async def app(make_client: Callable[..., Client], smtp: SmtpSink) -> AsyncIterator[Client]:
    async with make_client(smtp_url=smtp.url, outbox_poll_interval=0.02) as client:
        yield client


async def ask(app: Client, headers: dict[str, str], email: str = NEW) -> Any:
    return await app.post("/auth/email/change/request", json={"email": email}, headers=headers)


async def change_link(smtp: SmtpSink, email: str = NEW, number: int = 1) -> str:
    message = await smtp.wait_for_subject(email, CONFIRM, number)
    found = CHANGE_LINK.search(text_of(message))
    assert found, text_of(message)
    return found.group(1)


async def test_the_new_mailbox_confirms_and_the_account_signs_in_with_it(
    app: Client, smtp: SmtpSink
) -> None:
    ada = await sign_up(app, ADA, verified=True)
    asked = await ask(app, ada.headers)
    assert asked.status_code == 202, asked.text
    token = await change_link(smtp)
    # Nothing changes before the link is opened.
    me = await app.get("/auth/me", headers=ada.headers)
    assert me.json()["user"]["email"] == ADA

    changed = await app.post("/auth/email/change", json={"token": token}, headers=ada.headers)

    assert changed.status_code == 200, changed.text
    user = changed.json()["user"]
    assert user["email"] == NEW
    assert user["email_verified"] is True  # the new mailbox just proved itself
    await assert_access_works(app, ada.access_token)  # the caller's own session stays
    await sign_in(app, NEW)
    old = await app.post("/auth/login", json={"email": ADA, "password": PASSWORD})
    assert_problem(old, 401, "invalid_credentials")
    # The old address hears of it, the new one only half shown.
    notice = await smtp.wait_for_subject(ADA, CHANGED, 1)
    assert "a***@example.test" in text_of(notice)
    assert NEW not in text_of(notice)
    assert "/secure-account?token=" in text_of(notice)
    again = await app.post("/auth/email/change", json={"token": token})
    assert_problem(again, 400, "invalid_verification_token")
    activity = await app.get("/auth/activity", headers=ada.headers)
    assert "email_changed" in [entry["type"] for entry in activity.json()["activity"]]


async def test_every_other_session_ends(
    app: Client, make_client: Callable[..., Client], smtp: SmtpSink
) -> None:
    ada = await sign_up(app, ADA)
    async with make_client() as other_browser:
        elsewhere = await sign_in(other_browser, ADA)
    await ask(app, ada.headers)

    changed = await app.post(
        "/auth/email/change", json={"token": await change_link(smtp)}, headers=ada.headers
    )

    assert changed.status_code == 200, changed.text
    await assert_access_rejected(app, elsewhere.access_token)
    await assert_access_works(app, ada.access_token)


async def test_asking_is_a_sensitive_action_a_stolen_older_token_cannot_take(
    app: Client, smtp: SmtpSink, clock: FakeClock
) -> None:
    ada = await sign_up(app, ADA)
    clock.advance(301)  # past AUTH_REAUTH_MAX_AGE: a token that still works, an old proof

    asked = await ask(app, ada.headers, EVE)

    assert_problem(asked, 401, "insufficient_user_authentication")
    assert "max_age=300" in asked.headers["www-authenticate"]
    await asyncio.sleep(0.3)
    assert smtp.to(EVE) == []


@pytest.mark.parametrize(
    ("email", "field"),
    [("not an address", "email"), (ADA, "email"), ("ADA@Example.test ", "email")],
)
async def test_a_bad_or_unchanged_address_is_refused(
    app: Client, smtp: SmtpSink, email: str, field: str
) -> None:
    ada = await sign_up(app, ADA)

    asked = await ask(app, ada.headers, email)

    body = assert_problem(asked, 422, "validation_failed")
    assert [error["field"] for error in body["errors"]] == [field]


async def test_an_address_another_account_has_is_refused_when_asked_and_when_confirmed(
    app: Client, smtp: SmtpSink
) -> None:
    ada = await sign_up(app, ADA)
    await sign_up(app, EVE)
    assert_problem(await ask(app, ada.headers, EVE), 409, "email_taken")

    await ask(app, ada.headers)
    token = await change_link(smtp)
    await sign_up(app, NEW)  # someone registers the address meanwhile
    late = await app.post("/auth/email/change", json={"token": token})

    assert_problem(late, 409, "email_taken")
    me = await app.get("/auth/me", headers=ada.headers)
    assert me.json()["user"]["email"] == ADA
    await asyncio.sleep(0.3)
    assert smtp.about(ADA, CHANGED) == []  # nothing half-written: no notice either


async def test_only_the_last_link_asked_for_works_and_for_an_hour(
    app: Client, smtp: SmtpSink, clock: FakeClock
) -> None:
    ada = await sign_up(app, ADA)
    await ask(app, ada.headers, EVE)
    first = await change_link(smtp, EVE)
    await ask(app, ada.headers)
    second = await change_link(smtp)

    stale = await app.post("/auth/email/change", json={"token": first})
    assert_problem(stale, 400, "invalid_verification_token")
    clock.advance(3601)
    late = await app.post("/auth/email/change", json={"token": second})
    assert_problem(late, 400, "invalid_verification_token")
    me = await app.get("/auth/me", headers=(await sign_in(app, ADA)).headers)
    assert me.json()["user"]["email"] == ADA


async def test_a_verification_link_is_not_a_change_link(app: Client, smtp: SmtpSink) -> None:
    await sign_up(app, ADA)
    verify = link_token(await smtp.wait_for_subject(ADA, "Confirm your email address", 1))

    used = await app.post("/auth/email/change", json={"token": verify})

    assert_problem(used, 400, "invalid_verification_token")


async def test_an_intruders_change_dies_when_the_owner_ends_their_session(
    app: Client, make_client: Callable[..., Client], smtp: SmtpSink
) -> None:
    """The intruder knows the password: they sign in, ask to move the address to their own
    mailbox, and wait. The owner signs out everywhere (or resets the password); the link in
    the intruder's mailbox must not move the account's mail, and its resets, to them."""
    owner = await sign_up(app, ADA, verified=True)
    async with make_client(smtp_url=smtp.url) as elsewhere:
        intruder = await sign_in(elsewhere, ADA)
        assert (await ask(elsewhere, intruder.headers, EVE)).status_code == 202
    token = await change_link(smtp, EVE)
    ended = await app.post("/auth/revoke", headers=owner.headers)  # sign out everywhere
    assert ended.status_code == 204, ended.text

    confirmed = await app.post("/auth/email/change", json={"token": token})

    assert_problem(confirmed, 400, "invalid_verification_token")
    mine = await sign_in(app, ADA)
    me = await app.get("/auth/me", headers=mine.headers)
    assert me.json()["user"]["email"] == ADA


async def test_a_reset_link_mailed_to_the_old_address_dies_with_the_change(
    app: Client, smtp: SmtpSink
) -> None:
    ada = await sign_up(app, ADA)
    forgot = await app.post("/auth/password/forgot", json={"email": ADA})
    assert forgot.status_code == 202
    reset = link_token(await smtp.wait_for_subject(ADA, "Reset", 1))
    await ask(app, ada.headers)
    await app.post("/auth/email/change", json={"token": await change_link(smtp)})

    used = await app.post(
        "/auth/password/reset", json={"token": reset, "new_password": NEW_PASSWORD}
    )

    assert_problem(used, 400, "invalid_reset_token")
    await sign_in(app, NEW)  # the password is still the owner's


async def test_an_email_sign_in_link_mailed_to_the_old_address_no_longer_signs_in(
    make_client: Callable[..., Client], smtp: SmtpSink
) -> None:
    """Whoever reads the old mailbox now (an employer's, a lapsed domain's) holds a sign-in
    link the owner asked for before moving: it proves that mailbox, not the account."""
    async with make_client(smtp_url=smtp.url, outbox_poll_interval=0.02, email_signin=True) as app:
        ada = await sign_up(app, ADA, verified=True)
        asked = await app.post("/auth/email/signin/request", json={"email": ADA})
        assert asked.status_code == 202
        mail = await smtp.wait_for_subject(ADA, "Your authgate sign-in code", 1)
        found = re.search(r"/email-sign-in\?token=([A-Za-z0-9_-]+)", text_of(mail))
        assert found
        await ask(app, ada.headers)
        changed = await app.post("/auth/email/change", json={"token": await change_link(smtp)})
        assert changed.status_code == 200, changed.text

        used = await app.post("/auth/email/signin", json={"token": found.group(1)})

        assert_problem(used, 400, "invalid_email_link")


async def test_this_wasnt_me_in_the_notice_gives_the_old_address_back(
    app: Client, make_client: Callable[..., Client], smtp: SmtpSink
) -> None:
    """The intruder knew the password, and moved the address to theirs. The owner's link in
    the old mailbox takes it back: the address returns, every session ends, the password is
    blocked and the reset mail comes to the owner, not to the intruder."""
    owner = await sign_up(app, ADA, verified=True)
    async with make_client(smtp_url=smtp.url) as elsewhere:
        intruder = await sign_in(elsewhere, ADA)
        await ask(elsewhere, intruder.headers, EVE)
        token = await change_link(smtp, EVE)
        taken = await elsewhere.post(
            "/auth/email/change", json={"token": token}, headers=intruder.headers
        )
        assert taken.status_code == 200, taken.text
    secure = link_token(await smtp.wait_for_subject(ADA, CHANGED, 1))

    secured = await app.post("/auth/account/secure", json={"token": secure})

    assert secured.status_code == 204, secured.text
    await assert_access_rejected(app, intruder.access_token)
    await assert_access_rejected(app, owner.access_token)
    for email in (ADA, EVE):
        blocked = await app.post("/auth/login", json={"email": email, "password": PASSWORD})
        assert_problem(blocked, 401, "invalid_credentials")
    reset = link_token(await smtp.wait_for_subject(ADA, "Reset", 1))
    assert smtp.about(EVE, "Reset") == []
    done = await app.post(
        "/auth/password/reset", json={"token": reset, "new_password": NEW_PASSWORD}
    )
    assert done.status_code == 204, done.text
    mine = await sign_in(app, ADA, NEW_PASSWORD)
    user = (await app.get("/auth/me", headers=mine.headers)).json()["user"]
    assert (user["email"], user["email_verified"]) == (ADA, True)
    types = [
        entry["type"]
        for entry in (await app.get("/auth/activity", headers=mine.headers)).json()["activity"]
    ]
    assert {"email_changed", "email_restored", "account_secured"} <= set(types)


async def intruder_moves_address_to_eve(make_client: Callable[..., Client], smtp: SmtpSink) -> None:
    """The intruder knows Ada's password: signs in elsewhere, moves the address to EVE."""
    async with make_client(smtp_url=smtp.url) as elsewhere:
        intruder = await sign_in(elsewhere, ADA)
        assert (await ask(elsewhere, intruder.headers, EVE)).status_code == 202
        taken = await elsewhere.post(
            "/auth/email/change",
            json={"token": await change_link(smtp, EVE)},
            headers=intruder.headers,
        )
        assert taken.status_code == 200, taken.text


async def test_the_old_address_is_kept_for_the_way_back_nobody_can_register_it(
    app: Client, make_client: Callable[..., Client], smtp: SmtpSink
) -> None:
    """The intruder registers the address they freed, so it cannot come back, and the
    account stays at theirs, where they ask for reset after reset."""
    await sign_up(app, ADA, verified=True)
    await intruder_moves_address_to_eve(make_client, smtp)

    squatted = await app.post("/auth/register", json={"email": ADA, "password": PASSWORD})

    assert_problem(squatted, 409, "email_taken")
    secure = link_token(await smtp.wait_for_subject(ADA, CHANGED, 1))
    assert (await app.post("/auth/account/secure", json={"token": secure})).status_code == 204
    assert (await app.post("/auth/password/forgot", json={"email": EVE})).status_code == 202
    await asyncio.sleep(0.3)
    assert smtp.about(EVE, "Reset") == []  # EVE is nobody's address any more


async def test_the_intruders_own_notice_cannot_take_the_owners_way_back(
    app: Client, make_client: Callable[..., Client], smtp: SmtpSink
) -> None:
    """After the move the intruder signs in on yet another device: its new-device notice
    goes to their address, and its "this wasn't me" would end every other link of the
    account. The owner's way back, in the old mailbox, must outlive it."""
    await sign_up(app, ADA, verified=True)
    await intruder_moves_address_to_eve(make_client, smtp)
    owners_way_back = link_token(await smtp.wait_for_subject(ADA, CHANGED, 1))
    async with make_client(smtp_url=smtp.url) as third_device:
        await sign_in(third_device, EVE)
    own_notice = link_token(await smtp.wait_for_subject(EVE, NOTICE, 1))
    assert (await app.post("/auth/account/secure", json={"token": own_notice})).status_code == 204
    intruders_reset = link_token(await smtp.wait_for_subject(EVE, "Reset", 1))
    done = await app.post(
        "/auth/password/reset", json={"token": intruders_reset, "new_password": THEIRS}
    )
    assert done.status_code == 204, done.text

    owner = await app.post("/auth/account/secure", json={"token": owners_way_back})

    assert owner.status_code == 204, owner.text
    for email, password in ((EVE, THEIRS), (ADA, THEIRS), (ADA, PASSWORD)):
        blocked = await app.post("/auth/login", json={"email": email, "password": password})
        assert_problem(blocked, 401, "invalid_credentials")
    reset = link_token(await smtp.wait_for_subject(ADA, "Reset", 1))
    await app.post("/auth/password/reset", json={"token": reset, "new_password": NEW_PASSWORD})
    await sign_in(app, ADA, NEW_PASSWORD)


async def test_a_reset_link_the_intruder_got_at_their_address_dies_with_the_way_back(
    app: Client, make_client: Callable[..., Client], smtp: SmtpSink
) -> None:
    await sign_up(app, ADA, verified=True)
    await intruder_moves_address_to_eve(make_client, smtp)
    assert (await app.post("/auth/password/forgot", json={"email": EVE})).status_code == 202
    intruders_reset = link_token(await smtp.wait_for_subject(EVE, "Reset", 1))
    secure = link_token(await smtp.wait_for_subject(ADA, CHANGED, 1))
    assert (await app.post("/auth/account/secure", json={"token": secure})).status_code == 204

    used = await app.post(
        "/auth/password/reset", json={"token": intruders_reset, "new_password": THEIRS}
    )

    assert_problem(used, 400, "invalid_reset_token")
    blocked = await app.post("/auth/login", json={"email": ADA, "password": THEIRS})
    assert_problem(blocked, 401, "invalid_credentials")


async def test_the_new_device_notice_clicked_after_the_move_mails_the_reset_to_the_owner(
    app: Client, make_client: Callable[..., Client], smtp: SmtpSink
) -> None:
    """The owner reacts to the first mail that alarms them, the notice of the intruder's
    sign-in (mailed to the old address before the move): the reset must come to them, not
    to the address the account has now, and the change notice's way back still works."""
    await sign_up(app, ADA, verified=True)
    await intruder_moves_address_to_eve(make_client, smtp)
    device_notice = link_token(await smtp.wait_for_subject(ADA, NOTICE, 1))
    way_back = link_token(await smtp.wait_for_subject(ADA, CHANGED, 1))

    secured = await app.post("/auth/account/secure", json={"token": device_notice})

    assert secured.status_code == 204, secured.text
    await smtp.wait_for_subject(ADA, "Reset", 1)
    await asyncio.sleep(0.3)
    assert smtp.about(EVE, "Reset") == []
    back = await app.post("/auth/account/secure", json={"token": way_back})
    assert back.status_code == 204, back.text
    # Two resets came, one per click; the second link is the live one.
    reset = link_token(await smtp.wait_for_subject(ADA, "Reset", 2))
    done = await app.post(
        "/auth/password/reset", json={"token": reset, "new_password": NEW_PASSWORD}
    )
    assert done.status_code == 204, done.text
    mine = await sign_in(app, ADA, NEW_PASSWORD)
    user = (await app.get("/auth/me", headers=mine.headers)).json()["user"]
    assert user["email"] == ADA


@pytest.mark.every_deployment
async def test_of_two_confirmations_at_once_one_changes_the_address(
    concurrent_client: Callable[..., Any], smtp: SmtpSink
) -> None:
    async with concurrent_client(smtp_url=smtp.url, outbox_poll_interval=0.02) as served:
        ada = await sign_up(served, ADA, verified=True)
        await ask(served, ada.headers)
        token = await change_link(smtp)

        answers = await asyncio.gather(
            *(served.post("/auth/email/change", json={"token": token}) for _ in range(4))
        )

        assert sorted(a.status_code for a in answers) == [200, 400, 400, 400]
        await smtp.wait_for_subject(ADA, CHANGED, 1)
        await asyncio.sleep(0.3)
        assert len(smtp.about(ADA, CHANGED)) == 1


@pytest.mark.every_deployment
async def test_the_apps_hear_of_it_as_user_updated_with_both_addresses(
    app: Client, smtp: SmtpSink, settings: Settings
) -> None:
    admin = await an_admin(app, settings)
    hooked = await app.post(
        "/admin/webhooks",
        json={"url": "https://hooks.example.test/authgate", "events": ["user.updated"]},
        headers=admin.headers,
    )
    assert hooked.status_code == 201, hooked.text
    ada = await sign_up(app, ADA)
    await ask(app, ada.headers)

    await app.post("/auth/email/change", json={"token": await change_link(smtp)})

    [announced] = [
        d for d in await rows(settings, "webhook_deliveries") if d["type"] == "user.updated"
    ]
    data = json.loads(announced["payload"])["data"]
    assert (data["email"], data["previous_email"]) == (NEW, ADA)


async def test_this_wasnt_me_removes_the_app_the_intruder_added_before_moving_the_address(
    app: Client, make_client: Callable[..., Client], smtp: SmtpSink, clock: FakeClock
) -> None:
    """The intruder signs in, turns on an authenticator app of their own, and only then moves
    the address. Taking the address back must take the app too: otherwise, once the owner
    resets the password, the intruder's app is the second factor of the owner's account."""
    await sign_up(app, ADA, verified=True)
    async with make_client(smtp_url=smtp.url) as elsewhere:
        intruder = await sign_in(elsewhere, ADA)
        clock.advance(60)
        theirs = await enable_totp(elsewhere, intruder, clock)
        clock.advance(60)
        await ask(elsewhere, theirs.device.headers, EVE)
        await elsewhere.post("/auth/email/change", json={"token": await change_link(smtp, EVE)})
    secure = link_token(await smtp.wait_for_subject(ADA, CHANGED, 1))

    secured = await app.post("/auth/account/secure", json={"token": secure})

    assert secured.status_code == 204, secured.text
    reset = link_token(await smtp.wait_for_subject(ADA, "Reset", 1))
    done = await app.post(
        "/auth/password/reset", json={"token": reset, "new_password": NEW_PASSWORD}
    )
    assert done.status_code == 204, done.text
    await sign_in(app, ADA, NEW_PASSWORD)  # one step: no app of the intruder's asks for a code


async def test_an_address_nobody_proved_gets_no_notice_and_is_kept_for_nobody(
    app: Client, smtp: SmtpSink
) -> None:
    """Whoever signed up with someone else's address (never verified) and moved to their
    own must not hold it against its owner for a week, nor mail them about it."""
    squatter = await sign_up(app, ADA)
    await ask(app, squatter.headers, EVE)
    changed = await app.post("/auth/email/change", json={"token": await change_link(smtp, EVE)})
    assert changed.status_code == 200, changed.text

    owner = await app.post("/auth/register", json={"email": ADA, "password": NEW_PASSWORD})

    assert owner.status_code == 201, owner.text
    await asyncio.sleep(0.3)
    assert smtp.about(ADA, CHANGED) == []


async def test_the_export_keeps_the_mails_sent_to_the_old_address(
    app: Client, smtp: SmtpSink
) -> None:
    ada = await sign_up(app, ADA, verified=True)
    await ask(app, ada.headers)
    changed = await app.post(
        "/auth/email/change", json={"token": await change_link(smtp)}, headers=ada.headers
    )
    assert changed.status_code == 200, changed.text

    export = await app.get("/auth/account/export", headers=ada.headers)

    assert export.status_code == 200, export.text
    subjects = [mail["subject"] for mail in export.json()["mails"]]
    assert any(s.startswith("Confirm your email address") for s in subjects)  # to ADA
    assert any(s.startswith(CONFIRM) for s in subjects)  # to NEW
    assert any(s.startswith(CHANGED) for s in subjects)  # to ADA, after the change


async def test_deleting_the_account_erases_the_mails_to_the_old_address_too(
    app: Client, smtp: SmtpSink, settings: Settings
) -> None:
    ada = await sign_up(app, ADA, verified=True)
    await ask(app, ada.headers)
    await app.post(
        "/auth/email/change", json={"token": await change_link(smtp)}, headers=ada.headers
    )
    await smtp.wait_for_subject(ADA, CHANGED, 1)

    deleted = await app.delete("/auth/account", headers=ada.headers)

    assert deleted.status_code == 204, deleted.text
    left = [(m["recipient"], m["subject"]) for m in await rows(settings, "outbox")]
    assert [r for r, _ in left] == [NEW]  # the farewell, to the address the account had
    assert left[0][1].startswith("Your account was deleted")


async def test_an_address_taken_meanwhile_ends_no_session(
    app: Client, make_client: Callable[..., Client], smtp: SmtpSink
) -> None:
    """The link opened from a mail client (no session sent): refused as taken before
    anything ends, so a change that cannot happen signs nobody out."""
    ada = await sign_up(app, ADA, verified=True)
    await ask(app, ada.headers)
    token = await change_link(smtp)
    await sign_up(app, NEW)
    async with make_client() as mail_client:
        late = await mail_client.post("/auth/email/change", json={"token": token})

    assert_problem(late, 409, "email_taken")
    await assert_access_works(app, ada.access_token)
