"""The account's activity is as durable as the changes it tells of (spec "The account is its
user's"): a change's row is written in the change's own transaction, so a process that dies
right after the change keeps it; an event without a change (a failed sign-in) is written
before the response; and no event is written twice. On every deployment: SQLite and
PostgreSQL each commit their own way."""

from __future__ import annotations

from collections import Counter

import pytest

from application.admin import CLI, AdminCommand
from application.client import ClientInfo
from application.email.change import ChangePasswordCommand
from application.login import LoginCommand
from application.mfa.passkeys import FinishRegistrationCommand
from application.mfa.totp import TotpCodeCommand
from application.register import RegisterCommand
from infrastructure.config import Settings
from interfaces.bootstrap import open_service
from tests.fakes.authenticator import SoftAuthenticator
from tests.fakes.clock import FakeClock
from tests.http.admin_helpers import an_admin
from tests.http.conftest import BASE_URL, Client
from tests.http.helpers import PASSWORD, Device, jwt_parts, sign_in, sign_up, verify_address
from tests.http.mfa_helpers import App, enable_totp, rows
from tests.http.test_passkeys import register

pytestmark = pytest.mark.every_deployment

ADA = "ada@example.test"
NEW_PASSWORD = "a new one, quite long"
CLIENT = ClientInfo(ip_address="198.51.100.23", user_agent="Firefox")


async def test_a_change_keeps_its_activity_row_though_the_process_dies_before_any_flush(
    settings: Settings, clock: FakeClock, client: Client
) -> None:
    """(``client``: the app's start sealed the grant store, as a deployment's first start.)"""
    async with open_service(settings, clock=clock) as service:
        cases = service.cases
        await cases.register.execute(
            RegisterCommand(
                email=ADA, password=PASSWORD, name=None, captcha_token=None, client=CLIENT
            )
        )
        signed_in = await cases.login.execute(
            LoginCommand(email=ADA, password=PASSWORD, client=CLIENT)
        )
        caller = await cases.authenticate.execute(signed_in.tokens.access_token)
        await cases.change_password.execute(
            ChangePasswordCommand(
                caller=caller,
                current_password=PASSWORD,
                new_password=NEW_PASSWORD,
                client=CLIENT,
            )
        )
        await verify_address(ADA)  # factors are enrolled on a verified address only
        setup = await cases.setup_totp.execute(caller)
        confirmed = await cases.confirm_totp.execute(
            TotpCodeCommand(caller=caller, code=App(setup.secret, clock).code(), client=CLIENT)
        )
        aal2 = await cases.authenticate.execute(confirmed.access_token)
        options = await cases.start_passkey_registration.execute(aal2)
        await cases.finish_passkey_registration.execute(
            FinishRegistrationCommand(
                caller=aal2,
                credential=SoftAuthenticator(BASE_URL).create(dict(options)),
                name="Laptop",
                client=CLIENT,
            )
        )
        await cases.disable_user.execute(AdminCommand(user_id=caller.user_id, actor=CLI))

        # The process dies here: no response left, no loop ran, nothing was flushed. What
        # another process reads is what the database holds.
        written = sorted(await rows(settings, "security_activity"), key=lambda r: r["id"])

    assert [(r["type"], r["reason"]) for r in written] == [
        ("user_registered", None),  # with the account, naming its first session
        ("session_started", None),  # the sign-up's
        ("session_started", None),  # the sign-in's
        ("password_changed", None),
        ("session_revoked", "password_changed"),  # the sign-up's, not the caller's
        ("mfa_enabled", "totp"),
        ("passkey_added", None),
        ("user_disabled", None),
        ("session_revoked", "account_disabled"),  # the caller's
    ]
    registered, _, started = written[:3]
    assert registered["session_id"] == written[1]["session_id"]
    assert started["session_id"] == signed_in.tokens.session_id
    assert started["method"] == "pwd"
    assert (started["ip_address"], started["user_agent"]) == ("198.51.100.23", "Firefox")
    assert written[3]["ip_address"] == "198.51.100.23"
    assert written[5]["ip_address"] == written[6]["ip_address"] == "198.51.100.23"
    disabled, ended = written[7:]
    assert (disabled["actor"], disabled["user_agent"]) == ("cli", "authgate-cli")
    # The sessions a disabling ends name the reason, not the administrator's client.
    assert (ended["ip_address"], ended["user_agent"]) == (None, None)


async def test_each_event_shows_once_and_a_failed_sign_in_too(
    client: Client, clock: FakeClock, settings: Settings
) -> None:
    first = await sign_up(client, ADA, verified=True)
    device = await sign_in(client, ADA)
    other = await sign_in(client, ADA)
    wrong = await client.post("/auth/login", json={"email": ADA, "password": "not it"})
    assert wrong.status_code == 401
    assert (await client.post("/auth/logout", headers=other.cookie)).status_code == 204
    with_app = await enable_totp(client, device, clock)
    changed = await client.post(
        "/auth/password/change",
        json={"current_password": PASSWORD, "new_password": NEW_PASSWORD},
        headers=with_app.device.headers,
    )
    assert changed.status_code == 204, changed.text
    added = await register(client, with_app.device, SoftAuthenticator(BASE_URL))
    assert added.status_code == 201, added.text

    response = await client.get("/auth/activity", headers=with_app.device.headers)

    assert response.status_code == 200, response.text
    entries = response.json()["activity"]
    seen = Counter((e["type"], e["session_id"], e["reason"]) for e in entries)
    first_id, device_id, other_id = sid(first), sid(device), sid(other)
    assert [event for event, times in seen.items() if times > 1] == []
    assert {
        ("user_registered", first_id, None),
        ("session_started", first_id, None),
        ("session_started", device_id, None),
        ("login_failed", None, "wrong_password"),
        ("mfa_enabled", None, "totp"),
        ("password_changed", None, None),
        ("session_revoked", first_id, "mfa_enabled"),  # an app ends the other sessions
        ("session_started", other_id, None),
        ("session_revoked", other_id, "logout"),
        ("passkey_added", None, None),
    } <= set(seen)

    # An administrator's changes: the user reads no more (disabled, every session ended),
    # so the rows are read where another process would.
    admin = await an_admin(client, settings)
    user_id = first.body["user"]["id"]
    for action in ("disable", "enable"):
        done = await client.post(f"/admin/users/{user_id}/{action}", headers=admin.headers)
        assert done.status_code == 204, done.text
    written = [r for r in await rows(settings, "security_activity") if r["user_id"] == user_id]
    kept = Counter((r["type"], r["session_id"], r["reason"]) for r in written)
    assert [event for event, times in kept.items() if times > 1] == []
    assert {
        ("user_disabled", None, None),
        ("user_enabled", None, None),
        ("session_revoked", device_id, "account_disabled"),
    } <= set(kept)
    assert {r["actor"] for r in written if r["type"] in ("user_disabled", "user_enabled")} == {
        "admin_api"
    }


def sid(device: Device) -> str:
    return str(jwt_parts(device.access_token)[1]["sid"])
