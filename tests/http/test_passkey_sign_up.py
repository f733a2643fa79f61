"""Passkey-first accounts over HTTP: sign up with a passkey and no password (options, then the
browser's new credential), the account it makes, and what is refused: a taken address, a
replayed or expired challenge, two answers to one challenge, bad input."""

from __future__ import annotations

import asyncio
import json
import logging
from typing import Any

import pytest

from infrastructure.config import Settings
from tests.fakes.authenticator import SoftAuthenticator, unb64url
from tests.fakes.clock import FakeClock
from tests.http.admin_helpers import an_admin
from tests.http.helpers import (
    BASE_URL,
    BODY_TRANSPORT,
    PASSWORD,
    assert_problem,
    assert_refresh_cookie,
    assert_token_body,
    jwt_parts,
    no_refresh_cookie,
    sign_up,
    the_refresh_cookie,
)
from tests.http.mfa_helpers import me_ok, rows
from tests.servers.turnstile import FakeTurnstile

Client = Any
EMAIL = "pia@site.com"
RP_ID = "testserver.local"


@pytest.fixture
def authenticator() -> SoftAuthenticator:
    return SoftAuthenticator(BASE_URL)


async def signup_options(client: Client, email: str = EMAIL, **extra: Any) -> Any:
    return await client.post("/auth/passkeys/signup/options", json={"email": email, **extra})


async def options_for(client: Client, email: str = EMAIL, **extra: Any) -> dict[str, Any]:
    response = await signup_options(client, email, **extra)
    assert response.status_code == 200, response.text
    options: dict[str, Any] = response.json()
    return options


async def verify(client: Client, credential: dict[str, Any], **kwargs: Any) -> Any:
    return await client.post(
        "/auth/passkeys/signup/verify", json={"credential": credential}, **kwargs
    )


async def signed_up(
    client: Client, authenticator: SoftAuthenticator, email: str = EMAIL, **extra: Any
) -> Any:
    credential = authenticator.create(await options_for(client, email, **extra))
    response = await verify(client, credential)
    assert response.status_code == 201, response.text
    return response


async def passkey_sign_in(client: Client, authenticator: SoftAuthenticator) -> Any:
    options = await client.post("/auth/passkeys/login/options")
    client.cookies.clear()
    return await client.post(
        "/auth/passkeys/login/verify", json={"credential": authenticator.get(options.json())}
    )


# --- The options ----------------------------------------------------------------------------


async def test_the_options_ask_for_a_discoverable_verified_passkey_for_the_address(
    client: Client, settings: Settings
):
    options = await options_for(client, "Pia@Site.com", name="Pia")

    assert options["rp"] == {"id": RP_ID, "name": "authgate"}
    assert options["user"]["name"] == "pia@site.com"  # normalised, as register does
    handle = unb64url(options["user"]["id"])
    assert len(handle) == 32
    assert b"pia" not in handle
    assert options["authenticatorSelection"]["residentKey"] == "required"
    assert options["authenticatorSelection"]["userVerification"] == "required"
    assert options["timeout"] == 300000
    assert options["excludeCredentials"] == []
    assert await rows(settings, "users") == []  # nothing written yet


async def test_a_taken_address_is_refused_at_options_time(client: Client):
    await sign_up(client, EMAIL)

    assert_problem(await signup_options(client, "PIA@site.com"), 409, "email_taken")


@pytest.mark.parametrize(
    "body",
    [
        {},
        {"email": "not-an-address"},
        {"email": EMAIL, "name": "bell\u0007"},
        {"email": EMAIL, "name": "x" * 10_000},
        {"email": 7},
        {"email": EMAIL, "password": PASSWORD, "unexpected": {"deep": [1]}},
    ],
)
async def test_bad_sign_up_input_is_a_4xx_problem(client: Client, body: dict[str, Any]):
    response = await client.post("/auth/passkeys/signup/options", json=body)
    if body.get("unexpected"):  # unknown members are ignored, as everywhere
        assert response.status_code == 200, response.text
        return
    assert_problem(response, 422, "validation_failed")


async def test_the_options_count_against_registers_limit_per_ip(make_client: Any):
    async with make_client(register_limit=2) as client:
        statuses = [(await signup_options(client, f"u{n}@site.com")).status_code for n in range(3)]
        refused = await client.post(
            "/auth/register", json={"email": "late@site.com", "password": PASSWORD}
        )

    assert statuses == [200, 200, 429]
    assert_problem(refused, 429, "too_many_requests")


async def test_turnstile_guards_the_options_when_enabled(make_client: Any):
    with FakeTurnstile() as turnstile:
        async with make_client(
            turnstile_secret="1x0000000000000000000000000000000AA",
            turnstile_verify_url=turnstile.url,
        ) as client:
            unsolved = await signup_options(client)
            solved = await signup_options(client, turnstile_token="token-from-the-widget")

    assert_problem(unsolved, 403, "captcha_failed")
    assert solved.status_code == 200, solved.text


# --- The account ----------------------------------------------------------------------------


@pytest.mark.every_deployment
async def test_a_verified_passkey_opens_an_account_without_password_signed_in_at_aal2(
    client: Client, authenticator: SoftAuthenticator, settings: Settings
):
    response = await signed_up(client, authenticator, name="Pia")

    assert_token_body(response.json(), user=True)
    assert_refresh_cookie(the_refresh_cookie(response))
    user = response.json()["user"]
    assert (user["email"], user["name"], user["email_verified"]) == (EMAIL, "Pia", False)
    claims = jwt_parts(response.json()["access_token"])[1]
    assert (claims["amr"], claims["acr"]) == (["hwk", "user", "mfa"], "aal2")
    [stored] = await rows(settings, "users")
    assert stored["password_hash"] is None
    [passkey] = await rows(settings, "passkeys")
    assert passkey["user_id"] == user["id"]
    assert passkey["at_sign_up"]
    assert await me_ok(client, response.json()["access_token"])
    listed = await client.get(
        "/auth/passkeys", headers={"Authorization": f"Bearer {response.json()['access_token']}"}
    )
    assert len(listed.json()["passkeys"]) == 1
    mails = [m["subject"] for m in await rows(settings, "outbox")]
    assert len(mails) == 1
    assert mails[0].startswith("Confirm")


async def test_the_passkey_signs_in_again_and_a_password_does_not(
    client: Client, authenticator: SoftAuthenticator
):
    await signed_up(client, authenticator)

    again = await passkey_sign_in(client, authenticator)
    assert again.status_code == 200, again.text
    assert again.json()["user"]["email"] == EMAIL
    for password in (PASSWORD, "", "x" * 30):
        refused = await client.post("/auth/login", json={"email": EMAIL, "password": password})
        assert_problem(refused, 401, "invalid_credentials")


async def test_body_transport_gets_the_refresh_token_in_the_body(
    client: Client, authenticator: SoftAuthenticator
):
    credential = authenticator.create(await options_for(client))
    response = await verify(client, credential, headers=BODY_TRANSPORT)

    assert response.status_code == 201, response.text
    assert response.json()["refresh_token"]
    assert no_refresh_cookie(response)


async def test_the_sign_up_is_audited_and_announced_as_register(
    client: Client,
    authenticator: SoftAuthenticator,
    settings: Settings,
    caplog: pytest.LogCaptureFixture,
):
    admin = await an_admin(client, settings)
    added = await client.post(
        "/admin/webhooks",
        json={"url": "https://hooks.example.test/authgate", "events": ["user.created"]},
        headers=admin.headers,
    )
    assert added.status_code == 201, added.text

    with caplog.at_level(logging.INFO, logger="authgate.audit"):
        user = (await signed_up(client, authenticator)).json()["user"]

    events = [r.getMessage() for r in caplog.records if r.name == "authgate.audit"]
    assert "user_registered" in events
    deliveries = [
        d for d in await rows(settings, "webhook_deliveries") if d["user_id"] == user["id"]
    ]
    assert [d["type"] for d in deliveries] == ["user.created"]
    assert json.loads(deliveries[0]["payload"])["data"]["email"] == EMAIL


async def test_with_verified_email_required_the_account_waits_for_its_mail(
    make_client: Any, authenticator: SoftAuthenticator
):
    async with make_client(require_verified_email=True) as client:
        credential = authenticator.create(await options_for(client))
        response = await verify(client, credential)
        signing_in = await passkey_sign_in(client, authenticator)

    assert response.status_code == 201, response.text
    assert response.json()["email_verification_required"] is True
    assert "access_token" not in response.json()
    assert no_refresh_cookie(response)
    assert_problem(signing_in, 403, "email_not_verified")


# --- What is refused ------------------------------------------------------------------------


async def test_a_challenge_answers_once(client: Client, authenticator: SoftAuthenticator):
    credential = authenticator.create(await options_for(client))
    assert (await verify(client, credential)).status_code == 201

    assert_problem(await verify(client, credential), 400, "invalid_passkey_registration")


@pytest.mark.every_deployment
async def test_two_answers_to_one_challenge_open_one_account(
    client: Client, authenticator: SoftAuthenticator, settings: Settings
):
    options = await options_for(client)
    first, second = authenticator.create(options), authenticator.create(options)

    responses = await asyncio.gather(verify(client, first), verify(client, second))

    assert sorted(r.status_code for r in responses) == [201, 400]
    assert len(await rows(settings, "users")) == 1
    assert len(await rows(settings, "passkeys")) == 1


async def test_a_challenge_expires_after_five_minutes(
    client: Client, authenticator: SoftAuthenticator, clock: FakeClock
):
    credential = authenticator.create(await options_for(client))
    clock.advance(301)

    assert_problem(await verify(client, credential), 400, "invalid_passkey_registration")


@pytest.mark.every_deployment
async def test_an_address_taken_between_options_and_verify_writes_nothing(
    client: Client, authenticator: SoftAuthenticator, settings: Settings
):
    credential = authenticator.create(await options_for(client))
    await sign_up(client, EMAIL)

    assert_problem(await verify(client, credential), 409, "email_taken")
    assert len(await rows(settings, "users")) == 1
    assert await rows(settings, "passkeys") == []


@pytest.mark.parametrize(
    "forged",
    [
        {"origin": "https://evil.example"},
        {"rp_id": "evil.example"},
        {"user_verified": False},
        {"challenge": "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"},
    ],
)
async def test_a_forged_answer_opens_nothing(
    client: Client,
    authenticator: SoftAuthenticator,
    settings: Settings,
    forged: dict[str, Any],
):
    credential = authenticator.create(await options_for(client), **forged)

    assert_problem(await verify(client, credential), 400, "invalid_passkey_registration")
    assert await rows(settings, "users") == []


async def test_a_passkey_login_answer_is_no_sign_up(client: Client):
    malformed = await client.post(
        "/auth/passkeys/signup/verify", json={"credential": {"id": "x", "type": "public-key"}}
    )
    assert malformed.status_code in (400, 422)
    assert malformed.headers["content-type"].startswith("application/problem+json")
    not_json = await client.post(
        "/auth/passkeys/signup/verify",
        content=b"{",
        headers={"Content-Type": "application/json"},
    )
    assert 400 <= not_json.status_code < 500
