"""GET /auth/me: the signed-in user; every bad token is 401 with WWW-Authenticate."""

from __future__ import annotations

from tests.http.helpers import (
    ACCESS_TTL,
    assert_access_rejected,
    assert_problem,
    assert_user,
    bearer,
    register,
)

CHALLENGE = 'Bearer error="invalid_token"'


async def test_me_answers_200_with_the_user_and_forbids_caching(client):
    body = await register(client, name="User")

    response = await client.get("/auth/me", headers=bearer(body["access_token"]))

    assert response.status_code == 200, response.text
    me = response.json()
    assert set(me) == {"user"}
    assert_user(me["user"], "user@site.com", "User")
    assert me["user"] == body["user"]
    assert response.headers["cache-control"] == "no-store"


async def test_me_shows_each_user_their_own_account(client):
    first = await register(client, email="one@site.com")
    second = await register(client, email="two@site.com")

    one = await client.get("/auth/me", headers=bearer(first["access_token"]))
    two = await client.get("/auth/me", headers=bearer(second["access_token"]))

    assert one.json()["user"]["email"] == "one@site.com"
    assert two.json()["user"]["email"] == "two@site.com"
    assert one.json()["user"]["id"] != two.json()["user"]["id"]


async def test_me_without_a_token_answers_401_with_a_bearer_challenge(client):
    response = await client.get("/auth/me")

    assert_problem(response, 401, "invalid_token")
    assert response.headers["www-authenticate"] == CHALLENGE


async def test_me_with_a_malformed_authorization_header_answers_401(client):
    for authorization in [
        "Bearer",
        "Bearer ",
        "Basic dXNlcjpwYXNz",
        "Token abc.def.ghi",
        "bearer-but-not abc",
        "abc.def.ghi",
        "Bearer a.b",
        "Bearer a.b.c.d.e",
    ]:
        response = await client.get("/auth/me", headers={"Authorization": authorization})

        assert_problem(response, 401, "invalid_token")
        assert response.headers["www-authenticate"] == CHALLENGE, authorization


async def test_me_with_a_garbage_token_answers_401(client):
    for token in ["garbage", "eyJhbGciOiJFUzI1NiJ9.e30.AAAA", "a" * 5000]:
        await assert_access_rejected(client, token)


async def test_me_with_an_expired_token_answers_401(client, clock):
    body = await register(client)

    clock.advance(ACCESS_TTL - 1)
    just_in_time = await client.get("/auth/me", headers=bearer(body["access_token"]))
    clock.advance(2)  # 901 s after issue

    assert just_in_time.status_code == 200, just_in_time.text
    await assert_access_rejected(client, body["access_token"])


async def test_me_with_a_token_that_lost_its_signature_answers_401(client):
    body = await register(client)
    header, payload, _ = body["access_token"].split(".")

    await assert_access_rejected(client, f"{header}.{payload}.")
    await assert_access_rejected(client, f"{header}.{payload}")
