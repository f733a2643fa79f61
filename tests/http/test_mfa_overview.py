"""GET /auth/mfa: what second factors the signed-in user has, as an app needs to know to offer
turning the app on or off, new recovery codes, or a passkey."""

from __future__ import annotations

from typing import Any

from tests.fakes.authenticator import SoftAuthenticator
from tests.fakes.clock import FakeClock
from tests.http.helpers import BASE_URL, Device, sign_up
from tests.http.mfa_helpers import (
    enable_totp,
    password_step,
    reauthenticate_with_passkey,
    second_step,
)
from tests.http.test_passkey_sign_up import signed_up

Client = Any


async def overview(client: Client, device: Device) -> dict[str, Any]:
    response = await client.get("/auth/mfa", headers=device.headers)
    assert response.status_code == 200, response.text
    assert response.headers["cache-control"] == "no-store"
    body: dict[str, Any] = response.json()
    return body


async def add_passkey(client: Client, device: Device) -> Device:
    """The device, now proven with the new passkey (the next one needs aal2: step-up)."""
    authenticator = SoftAuthenticator(BASE_URL)
    options = await client.post("/auth/passkeys/register/options", headers=device.headers)
    credential = authenticator.create(options.json())
    added = await client.post(
        "/auth/passkeys/register/verify", json={"credential": credential}, headers=device.headers
    )
    assert added.status_code == 201, added.text
    return await reauthenticate_with_passkey(client, device, authenticator)


async def test_a_new_account_has_no_second_factor(client: Client):
    device = await sign_up(client, verified=True)
    assert await overview(client, device) == {
        "totp": False,
        "recovery_codes_left": 0,
        "passkeys": 0,
        "password": True,
    }


async def test_the_app_counts_once_confirmed_and_spent_recovery_codes_count_down(
    client: Client, clock: FakeClock
):
    device = await sign_up(client, verified=True)
    await client.post("/auth/mfa/totp/setup", headers=device.headers)
    assert (await overview(client, device))["totp"] is False  # pending is not on

    with_totp = await enable_totp(
        client, await sign_up(client, "other@site.com", verified=True), clock
    )
    assert await overview(client, with_totp.device) == {
        "totp": True,
        "recovery_codes_left": 10,
        "passkeys": 0,
        "password": True,
    }
    mfa_token = await password_step(client, "other@site.com")
    signed_in = await second_step(client, mfa_token, recovery_code=with_totp.recovery_codes[0])
    assert signed_in.status_code == 200, signed_in.text
    assert (await overview(client, with_totp.device))["recovery_codes_left"] == 9

    removed = await client.request(
        "DELETE",
        "/auth/mfa/totp",
        json={"code": with_totp.app.next_code()},
        headers=with_totp.device.headers,
    )
    assert removed.status_code == 204, removed.text
    assert await overview(client, with_totp.device) == {
        "totp": False,
        "recovery_codes_left": 0,
        "passkeys": 0,
        "password": True,
    }


async def test_passkeys_are_counted_for_their_owner_only(client: Client):
    ada = await sign_up(client, "ada@site.com", verified=True)
    bob = await sign_up(client, "bob@site.com", verified=True)
    ada = await add_passkey(client, ada)
    ada = await add_passkey(client, ada)
    assert (await overview(client, ada))["passkeys"] == 2
    assert (await overview(client, bob))["passkeys"] == 0


async def test_a_passkey_first_account_shows_it_has_no_password_until_it_sets_one(
    client: Client,
):
    account = (await signed_up(client, SoftAuthenticator(BASE_URL))).json()
    device = Device(account["access_token"], "", account)

    assert await overview(client, device) == {
        "totp": False,
        "recovery_codes_left": 0,
        "passkeys": 1,
        "password": False,
    }
    await client.post(
        "/auth/password/set", json={"new_password": "a brand new one"}, headers=device.headers
    )
    assert (await overview(client, device))["password"] is True
