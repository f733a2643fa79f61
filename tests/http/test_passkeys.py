"""Passkeys over HTTP with a software authenticator: registration, the discoverable sign-in
(no email), list and removal; and the forgeries a relying party must refuse: another origin,
another RP ID, a replayed or foreign challenge, a counter going backwards, no user
verification, a wrong signature or user handle."""

from __future__ import annotations

import asyncio
from collections import Counter
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric import ec

from infrastructure.config import Settings
from tests.fakes.authenticator import SoftAuthenticator, b64url, unb64url
from tests.fakes.clock import FakeClock
from tests.http.helpers import (
    BASE_URL,
    BODY_TRANSPORT,
    PASSWORD,
    Device,
    assert_problem,
    assert_refresh_cookie,
    assert_token_body,
    assert_user,
    no_refresh_cookie,
    open_connections,
    sign_up,
    the_refresh_cookie,
)
from tests.http.mfa_helpers import (
    enable_totp,
    me_ok,
    reauthenticate,
    reauthenticate_with_passkey,
    rows,
)

Client = Any
RP_ID = "testserver.local"  # the issuer's host (AUTH_ISSUER in tests/http/conftest.py)


async def register_options(client: Client, device: Device) -> dict[str, Any]:
    response = await client.post("/auth/passkeys/register/options", headers=device.headers)
    assert response.status_code == 200, response.text
    options: dict[str, Any] = response.json()
    return options


async def register(
    client: Client, device: Device, authenticator: SoftAuthenticator, **forged: Any
) -> Any:
    credential = authenticator.create(await register_options(client, device), **forged)
    return await client.post(
        "/auth/passkeys/register/verify",
        json={"credential": credential, "name": "Laptop"},
        headers=device.headers,
    )


async def login_options(client: Client) -> dict[str, Any]:
    response = await client.post("/auth/passkeys/login/options")
    assert response.status_code == 200, response.text
    options: dict[str, Any] = response.json()
    return options


async def sign_in_with(
    client: Client, credential: dict[str, Any], headers: dict[str, str] | None = None
) -> Any:
    client.cookies.clear()
    return await client.post(
        "/auth/passkeys/login/verify", json={"credential": credential}, headers=headers
    )


@pytest.fixture
def authenticator() -> SoftAuthenticator:
    return SoftAuthenticator(BASE_URL)


@pytest.fixture
async def with_passkey(client: Client, authenticator: SoftAuthenticator) -> Device:
    return await signed_up_with_passkey(client, authenticator)


async def signed_up_with_passkey(client: Client, authenticator: SoftAuthenticator) -> Device:
    device = await sign_up(client, verified=True)
    added = await register(client, device, authenticator)
    assert added.status_code == 201, added.text
    # The account has a second factor now: its next sensitive action needs aal2 (step-up).
    return await reauthenticate_with_passkey(client, device, authenticator)


# --- Registration ---------------------------------------------------------------------------


async def test_registration_options_ask_for_a_discoverable_verified_credential(
    client: Client, authenticator: SoftAuthenticator
):
    device = await sign_up(client, verified=True)
    options = await register_options(client, device)

    assert options["rp"] == {"id": RP_ID, "name": "authgate"}
    assert options["user"]["name"] == "user@site.com"
    handle = unb64url(options["user"]["id"])
    assert len(handle) == 32
    assert b"user@site.com" not in handle
    assert len(unb64url(options["challenge"])) >= 32
    assert options["authenticatorSelection"]["residentKey"] == "required"
    assert options["authenticatorSelection"]["userVerification"] == "required"
    assert options["timeout"] == 300000
    assert {"type": "public-key", "alg": -7} in options["pubKeyCredParams"]
    assert options["excludeCredentials"] == []


async def test_a_verified_registration_adds_a_passkey_listed_for_its_user(
    client: Client, authenticator: SoftAuthenticator
):
    device = await sign_up(client, verified=True)
    response = await register(client, device, authenticator)

    assert response.status_code == 201, response.text
    passkey = response.json()["passkey"]
    assert set(passkey) == {"id", "name", "created_at", "last_used_at", "transports"}
    assert (passkey["name"], passkey["last_used_at"], passkey["transports"]) == (
        "Laptop",
        None,
        ["internal"],
    )
    listed = await client.get("/auth/passkeys", headers=device.headers)
    assert listed.status_code == 200
    assert listed.json() == {"passkeys": [passkey]}
    other = await sign_up(client, "bob@site.com", verified=True)
    assert (await client.get("/auth/passkeys", headers=other.headers)).json() == {"passkeys": []}


async def test_a_second_passkey_keeps_the_user_handle_and_excludes_the_first(
    client: Client, with_passkey: Device, authenticator: SoftAuthenticator
):
    options = await register_options(client, with_passkey)
    first = authenticator.credentials[0]
    assert unb64url(options["user"]["id"]) == first.user_handle
    assert [c["id"] for c in options["excludeCredentials"]] == [b64url(first.credential_id)]


async def test_a_registered_credential_cannot_be_registered_again(
    client: Client, with_passkey: Device, authenticator: SoftAuthenticator, settings: Settings
):
    taken = authenticator.credentials[0].credential_id
    bob = await sign_up(client, "bob@site.com", verified=True)
    response = await register(client, bob, SoftAuthenticator(BASE_URL), credential_id=taken)
    assert_problem(response, 409, "passkey_exists")
    assert [row["user_id"] for row in await rows(settings, "passkeys")] == [
        with_passkey.body["user"]["id"]
    ]


async def test_a_credential_whose_id_is_not_the_attested_one_is_refused(
    client: Client, with_passkey: Device, authenticator: SoftAuthenticator, settings: Settings
):
    credential = authenticator.create(await register_options(client, with_passkey))
    credential["id"] = credential["rawId"] = b64url(b"not the attested id")
    response = await client.post(
        "/auth/passkeys/register/verify",
        json={"credential": credential},
        headers=with_passkey.headers,
    )
    assert_problem(response, 400, "invalid_passkey_registration")
    assert len(await rows(settings, "passkeys")) == 1


@pytest.mark.parametrize(
    "forged",
    [
        {"origin": "https://evil.example"},
        {"origin": "http://testserver.local"},  # same host, another scheme
        {"rp_id": "evil.example"},
        {"challenge": b64url(b"a challenge this server never made" * 2)},
        {"user_verified": False},
    ],
    ids=["foreign-origin", "http-origin", "foreign-rp-id", "unknown-challenge", "no-uv"],
)
async def test_a_registration_that_does_not_verify_is_refused_and_stores_nothing(
    client: Client, authenticator: SoftAuthenticator, settings: Settings, forged: dict[str, Any]
):
    device = await sign_up(client, verified=True)
    response = await register(client, device, authenticator, **forged)
    assert_problem(response, 400, "invalid_passkey_registration")
    assert await rows(settings, "passkeys") == []


async def test_a_registration_challenge_answers_once(
    client: Client, authenticator: SoftAuthenticator, settings: Settings
):
    device = await sign_up(client, verified=True)
    options = await register_options(client, device)
    first = authenticator.create(options)
    assert (
        await client.post(
            "/auth/passkeys/register/verify", json={"credential": first}, headers=device.headers
        )
    ).status_code == 201
    # Proven with it (step-up), so only the spent challenge can refuse the next one.
    device = await reauthenticate_with_passkey(client, device, authenticator)
    replayed = authenticator.create(options)  # a new credential on the same challenge
    response = await client.post(
        "/auth/passkeys/register/verify", json={"credential": replayed}, headers=device.headers
    )
    assert_problem(response, 400, "invalid_passkey_registration")
    assert len(await rows(settings, "passkeys")) == 1


async def test_a_registration_challenge_expires_after_five_minutes(
    client: Client, authenticator: SoftAuthenticator, clock: FakeClock
):
    device = await sign_up(client, verified=True)
    options = await register_options(client, device)
    clock.advance(5 * 60 + 1)
    device = await reauthenticate(client, device, password=PASSWORD)  # step-up: 5 min too
    response = await client.post(
        "/auth/passkeys/register/verify",
        json={"credential": authenticator.create(options)},
        headers=device.headers,
    )
    assert_problem(response, 400, "invalid_passkey_registration")


async def test_another_users_registration_challenge_is_refused(
    client: Client, authenticator: SoftAuthenticator, settings: Settings
):
    ada = await sign_up(client, "ada@site.com", verified=True)
    eve = await sign_up(client, "eve@site.com", verified=True)
    adas_options = await register_options(client, ada)
    response = await client.post(
        "/auth/passkeys/register/verify",
        json={"credential": authenticator.create(adas_options)},
        headers=eve.headers,
    )
    assert_problem(response, 400, "invalid_passkey_registration")
    assert await rows(settings, "passkeys") == []


# --- Sign-in --------------------------------------------------------------------------------


async def test_login_options_name_no_user_and_no_credential(client: Client):
    options = await login_options(client)
    assert options["rpId"] == RP_ID
    assert options["userVerification"] == "required"
    assert options.get("allowCredentials", []) == []
    assert len(unb64url(options["challenge"])) >= 32


async def test_a_passkey_signs_in_without_an_email_with_the_login_body_and_cookie(
    client: Client, with_passkey: Device, authenticator: SoftAuthenticator
):
    response = await sign_in_with(client, authenticator.get(await login_options(client)))

    assert response.status_code == 200, response.text
    body = response.json()
    assert_token_body(body, user=True)
    assert_user(body["user"], "user@site.com")
    assert_refresh_cookie(the_refresh_cookie(response))
    assert await me_ok(client, body["access_token"])
    assert (await client.post("/auth/refresh")).status_code == 200
    (listed,) = (await client.get("/auth/passkeys", headers=with_passkey.headers)).json()[
        "passkeys"
    ]
    assert listed["last_used_at"] is not None


async def test_a_passkey_sign_in_with_body_transport(
    client: Client, with_passkey: Device, authenticator: SoftAuthenticator
):
    credential = authenticator.get(await login_options(client))
    response = await sign_in_with(client, credential, headers=BODY_TRANSPORT)
    assert response.status_code == 200
    assert_token_body(response.json(), user=True, in_body=True)
    assert no_refresh_cookie(response)


async def test_a_passkey_satisfies_the_second_factor_by_itself(
    client: Client, with_passkey: Device, authenticator: SoftAuthenticator, clock: FakeClock
):
    with_passkey = (await enable_totp(client, with_passkey, clock)).device  # aal2 now
    response = await sign_in_with(client, authenticator.get(await login_options(client)))
    assert response.status_code == 200, response.text
    assert_token_body(response.json(), user=True)


@pytest.mark.parametrize(
    "forged",
    [
        {"origin": "https://evil.example"},
        {"origin": "https://testserver.local:8443"},
        {"rp_id": "evil.example"},
        {"user_verified": False},
        {"signing_key": ec.generate_private_key(ec.SECP256R1())},
        {"user_handle": b"\x01" * 32},
    ],
    ids=["foreign-origin", "other-port", "foreign-rp-id", "no-uv", "bad-signature", "handle"],
)
async def test_a_sign_in_that_does_not_verify_is_refused_without_a_session(
    client: Client, with_passkey: Device, authenticator: SoftAuthenticator, forged: dict[str, Any]
):
    count = authenticator.credentials[-1].sign_count
    response = await sign_in_with(client, authenticator.get(await login_options(client), **forged))
    assert_problem(response, 401, "invalid_passkey")
    assert no_refresh_cookie(response)
    # Nothing was used up but the challenge: an honest sign-in still works.
    authenticator.credentials[-1].sign_count = count
    honest = await sign_in_with(client, authenticator.get(await login_options(client)))
    assert honest.status_code == 200, honest.text


async def test_an_assertion_without_a_user_handle_is_refused(
    client: Client, with_passkey: Device, authenticator: SoftAuthenticator
):
    assertion = authenticator.get(await login_options(client))
    del assertion["response"]["userHandle"]  # WebAuthn L3 §7.2: required in this flow

    response = await sign_in_with(client, assertion)

    assert_problem(response, 401, "invalid_passkey")
    assert no_refresh_cookie(response)


async def test_a_replayed_assertion_is_refused(
    client: Client, with_passkey: Device, authenticator: SoftAuthenticator
):
    credential = authenticator.get(await login_options(client))
    assert (await sign_in_with(client, credential)).status_code == 200
    replay = await sign_in_with(client, credential)
    assert_problem(replay, 401, "invalid_passkey")


async def test_a_sign_in_challenge_answers_once_even_when_wrong(
    client: Client, with_passkey: Device, authenticator: SoftAuthenticator
):
    options = await login_options(client)
    wrong = await sign_in_with(client, authenticator.get(options, origin="https://evil.example"))
    assert_problem(wrong, 401, "invalid_passkey")
    right_after = await sign_in_with(client, authenticator.get(options))
    assert_problem(right_after, 401, "invalid_passkey")


async def test_a_sign_in_challenge_expires_after_five_minutes(
    client: Client, with_passkey: Device, authenticator: SoftAuthenticator, clock: FakeClock
):
    options = await login_options(client)
    clock.advance(5 * 60 + 1)
    assert_problem(await sign_in_with(client, authenticator.get(options)), 401, "invalid_passkey")


async def test_an_unknown_challenge_is_refused(
    client: Client, with_passkey: Device, authenticator: SoftAuthenticator
):
    made_up = {"rpId": RP_ID, "challenge": b64url(b"never issued by this server" * 2)}
    assert_problem(await sign_in_with(client, authenticator.get(made_up)), 401, "invalid_passkey")


@pytest.mark.parametrize("count", [5, 4], ids=["counter-repeated", "counter-backwards"])
async def test_a_counter_that_does_not_grow_is_refused_as_a_possible_clone(
    client: Client, with_passkey: Device, authenticator: SoftAuthenticator, count: int
):
    assert (
        await sign_in_with(client, authenticator.get(await login_options(client), sign_count=5))
    ).status_code == 200
    clone = await sign_in_with(
        client, authenticator.get(await login_options(client), sign_count=count)
    )
    assert_problem(clone, 401, "invalid_passkey")
    grown = await sign_in_with(client, authenticator.get(await login_options(client), sign_count=6))
    assert grown.status_code == 200


@pytest.mark.every_deployment
async def test_of_concurrent_sign_ins_with_one_counter_value_one_succeeds(
    concurrent_client: Any, authenticator: SoftAuthenticator
):
    async with concurrent_client() as client:
        device = await signed_up_with_passkey(client, authenticator)
        credentials = [
            authenticator.get(await login_options(client), sign_count=7) for _ in range(5)
        ]
        await open_connections(client, device.access_token, 5)
        responses = await asyncio.gather(*(sign_in_with(client, c) for c in credentials))
    assert Counter(r.status_code for r in responses) == {200: 1, 401: 4}


async def test_an_unknown_credential_is_refused(client: Client, with_passkey: Device):
    stranger = SoftAuthenticator(BASE_URL)
    stranger.create({"rp": {"id": RP_ID}, "user": {"id": b64url(b"x" * 32)}, "challenge": "AA"})
    response = await sign_in_with(client, stranger.get(await login_options(client)))
    assert_problem(response, 401, "invalid_passkey")


# --- Removal --------------------------------------------------------------------------------


async def test_a_removed_passkey_signs_in_no_more(
    client: Client, with_passkey: Device, authenticator: SoftAuthenticator
):
    (passkey,) = (await client.get("/auth/passkeys", headers=with_passkey.headers)).json()[
        "passkeys"
    ]
    stranger = await sign_up(client, "bob@site.com", verified=True)
    theirs = await client.delete(f"/auth/passkeys/{passkey['id']}", headers=stranger.headers)
    assert_problem(theirs, 404, "passkey_not_found")

    removed = await client.delete(f"/auth/passkeys/{passkey['id']}", headers=with_passkey.headers)
    assert removed.status_code == 204
    assert (await client.get("/auth/passkeys", headers=with_passkey.headers)).json() == {
        "passkeys": []
    }
    again = await client.delete(f"/auth/passkeys/{passkey['id']}", headers=with_passkey.headers)
    assert_problem(again, 404, "passkey_not_found")
    response = await sign_in_with(client, authenticator.get(await login_options(client)))
    assert_problem(response, 401, "invalid_passkey")


@pytest.mark.parametrize("passkey_id", ["0", "-1", str(2**63), "abc"])
async def test_a_passkey_id_that_names_nothing_is_404_or_a_bad_request(
    client: Client, with_passkey: Device, passkey_id: str
):
    response = await client.delete(f"/auth/passkeys/{passkey_id}", headers=with_passkey.headers)
    assert response.status_code in (400, 404), response.text
    assert response.headers["content-type"].startswith("application/problem+json")


async def test_passkey_endpoints_need_a_signed_in_user(client: Client):
    for method, path in [
        ("POST", "/auth/passkeys/register/options"),
        ("POST", "/auth/passkeys/register/verify"),
        ("GET", "/auth/passkeys"),
        ("DELETE", "/auth/passkeys/1"),
    ]:
        response = await client.request(method, path, json={})
        assert_problem(response, 401, "invalid_token")
