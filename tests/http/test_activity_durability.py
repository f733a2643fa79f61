"""The account's activity is as durable as the changes it tells of (spec "The account is its
user's"): a change's row is written in the change's own transaction, so a process that dies
right after the change keeps it; an event without a change (a failed sign-in) is written
before the response; and no event is written twice. On every deployment: SQLite and
PostgreSQL each commit their own way."""

from __future__ import annotations

from collections import Counter

import pytest

from application.client import ClientInfo
from application.email.change import ChangePasswordCommand
from application.login import LoginCommand
from application.register import RegisterCommand
from infrastructure.config import Settings
from interfaces.bootstrap import open_service
from tests.fakes.clock import FakeClock
from tests.http.conftest import Client
from tests.http.helpers import PASSWORD, Device, jwt_parts, sign_in, sign_up
from tests.http.mfa_helpers import enable_totp, rows

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

        # The process dies here: no response left, no loop ran, nothing was flushed. What
        # another process reads is what the database holds.
        written = await rows(settings, "security_activity")

    assert [(r["type"], r["reason"]) for r in written] == [
        ("session_started", None),  # the sign-up's
        ("session_started", None),  # the sign-in's
        ("password_changed", None),
        ("session_revoked", "password_changed"),  # the sign-up's, not the caller's
    ]
    started = written[1]
    assert started["session_id"] == signed_in.tokens.session_id
    assert started["method"] == "pwd"
    assert (started["ip_address"], started["user_agent"]) == ("198.51.100.23", "Firefox")
    assert written[2]["ip_address"] == "198.51.100.23"


async def test_each_event_shows_once_and_a_failed_sign_in_too(
    client: Client, clock: FakeClock
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
    } <= set(seen)


def sid(device: Device) -> str:
    return str(jwt_parts(device.access_token)[1]["sid"])
