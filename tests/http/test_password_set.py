"""``POST /auth/password/set`` over HTTP: a passkey-first account adds a password (step-up
answered by its passkey when the proof is old), signs in with it, and the answers for the
rest (tests/unit/test_set_password.py has the rules)."""

from __future__ import annotations

import json
from typing import Any

import pytest

from infrastructure.config import Settings
from tests.fakes.authenticator import SoftAuthenticator
from tests.fakes.clock import FakeClock
from tests.http.admin_helpers import an_admin
from tests.http.helpers import BASE_URL, PASSWORD, assert_problem, bearer, sign_in, sign_up
from tests.http.mfa_helpers import rows
from tests.http.test_passkey_sign_up import signed_up

Client = Any
EMAIL = "pia@site.com"
NEW = "a brand new passphrase"


@pytest.fixture
def authenticator() -> SoftAuthenticator:
    return SoftAuthenticator(BASE_URL)


async def set_password(client: Client, access_token: str, new: str = NEW) -> Any:
    return await client.post(
        "/auth/password/set", json={"new_password": new}, headers=bearer(access_token)
    )


@pytest.mark.every_deployment
async def test_a_passkey_first_account_sets_a_password_and_signs_in_with_it(
    client: Client, authenticator: SoftAuthenticator, settings: Settings
):
    admin = await an_admin(client, settings)
    await client.post(
        "/admin/webhooks",
        json={"url": "https://hooks.example.test/authgate", "events": ["password.changed"]},
        headers=admin.headers,
    )
    account = (await signed_up(client, authenticator)).json()

    response = await set_password(client, account["access_token"])

    assert response.status_code == 204, response.text
    assert (await sign_in(client, EMAIL, NEW)).body["user"]["id"] == account["user"]["id"]
    [announced] = [
        d for d in await rows(settings, "webhook_deliveries") if d["type"] == "password.changed"
    ]
    assert json.loads(announced["payload"])["data"]["email"] == EMAIL
    subjects = [m["subject"] for m in await rows(settings, "outbox") if m["recipient"] == EMAIL]
    assert any(s.startswith("A password was set") for s in subjects)


async def test_an_old_proof_asks_for_the_passkey_again(
    client: Client, authenticator: SoftAuthenticator, clock: FakeClock
):
    account = (await signed_up(client, authenticator)).json()
    clock.advance(301)

    refused = await set_password(client, account["access_token"])
    assert_problem(refused, 401, "insufficient_user_authentication")
    options = await client.post(
        "/auth/passkeys/reauthenticate/options", headers=bearer(account["access_token"])
    )
    proven = await client.post(
        "/auth/reauthenticate",
        json={"credential": authenticator.get(options.json())},
        headers=bearer(account["access_token"]),
    )
    assert proven.status_code == 200, proven.text

    assert (await set_password(client, proven.json()["access_token"])).status_code == 204


async def test_an_account_with_a_password_is_sent_to_change(client: Client):
    device = await sign_up(client, EMAIL)

    body = assert_problem(
        await set_password(client, device.access_token), 409, "password_already_set"
    )
    assert "change" in body["detail"]
    assert (await sign_in(client, EMAIL, PASSWORD)).access_token  # untouched


@pytest.mark.parametrize(
    "body", [{}, {"new_password": "short"}, {"new_password": 12345678}, {"password": NEW}]
)
async def test_bad_input_is_a_4xx_problem(
    client: Client, authenticator: SoftAuthenticator, body: dict[str, Any]
):
    account = (await signed_up(client, authenticator)).json()

    response = await client.post(
        "/auth/password/set", json=body, headers=bearer(account["access_token"])
    )

    assert_problem(response, 422, "validation_failed")


async def test_without_a_bearer_token_nothing_is_set(client: Client):
    response = await client.post("/auth/password/set", json={"new_password": NEW})

    assert_problem(response, 401, "invalid_token")
