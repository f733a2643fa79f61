"""POST /auth/refresh: rotation, grace window, reuse detection, body transport, CSRF."""

from __future__ import annotations

from tests.http.helpers import (
    BASE_URL,
    BODY_TRANSPORT,
    PASSWORD,
    REFRESH_TTL,
    assert_access_works,
    assert_problem,
    assert_refresh_cookie,
    assert_token_body,
    bearer,
    no_refresh_cookie,
    refresh_with,
    sign_up,
    the_refresh_cookie,
)

GRACE = 10


async def test_refresh_with_the_cookie_answers_200_with_a_new_access_token_and_cookie(client):
    device = await sign_up(client)

    response = await client.post("/auth/refresh")  # the browser sends the cookie by itself

    assert response.status_code == 200, response.text
    body = response.json()
    assert_token_body(body, user=False)
    assert body["access_token"] != device.access_token
    cookie = the_refresh_cookie(response)
    assert_refresh_cookie(cookie)
    assert cookie.value != device.refresh_token
    assert response.headers["cache-control"] == "no-store"
    # The new access token works.
    me = await client.get("/auth/me", headers=bearer(body["access_token"]))
    assert me.status_code == 200, me.text
    assert me.json()["user"] == device.body["user"]


async def test_refresh_rotates_the_cookie_and_the_old_token_stops_working(client, clock):
    device = await sign_up(client)
    rotated = await refresh_with(client, device.refresh_token)
    assert rotated.status_code == 200, rotated.text
    assert the_refresh_cookie(rotated).value != device.refresh_token

    clock.advance(GRACE + 1)
    replay = await refresh_with(client, device.refresh_token)

    assert_problem(replay, 401, "refresh_token_reused")
    assert no_refresh_cookie(replay)


async def test_the_old_token_sent_in_the_body_after_the_grace_is_refused_as_reused(client, clock):
    device = await sign_up(client)
    rotated = await refresh_with(client, device.refresh_token)
    assert rotated.status_code == 200, rotated.text
    client.cookies.clear()

    clock.advance(GRACE + 1)
    replay = await client.post("/auth/refresh", json={"refresh_token": device.refresh_token})

    assert_problem(replay, 401, "refresh_token_reused")


async def test_every_refresh_issues_a_never_seen_cookie(client, clock):
    device = await sign_up(client)
    token = device.refresh_token
    seen = {token}

    for _ in range(3):
        clock.advance(GRACE + 1)
        response = await refresh_with(client, token)
        assert response.status_code == 200, response.text
        token = the_refresh_cookie(response).value
        assert token not in seen
        seen.add(token)


async def test_reuse_detection_leaves_the_users_other_sessions_alone(client, clock):
    device = await sign_up(client)
    other = await client.post("/auth/login", json={"email": "user@site.com", "password": PASSWORD})
    other_cookie = the_refresh_cookie(other).value
    await refresh_with(client, device.refresh_token)

    clock.advance(GRACE + 1)
    assert_problem(await refresh_with(client, device.refresh_token), 401, "refresh_token_reused")

    assert (await refresh_with(client, other_cookie)).status_code == 200
    await assert_access_works(client, other.json()["access_token"])


async def test_refresh_without_a_cookie_answers_401_invalid_refresh_token(client):
    response = await client.post("/auth/refresh")

    assert_problem(response, 401, "invalid_refresh_token")
    assert no_refresh_cookie(response)


async def test_refresh_with_an_unknown_token_answers_401_invalid_refresh_token(client):
    for token in ["garbage", "A" * 43, "x" * 300, "refresh_id"]:
        by_cookie = await refresh_with(client, token)
        by_body = await client.post("/auth/refresh", json={"refresh_token": token})

        assert_problem(by_cookie, 401, "invalid_refresh_token")
        assert_problem(by_body, 401, "invalid_refresh_token")

    empty = await client.post("/auth/refresh", json={})
    assert_problem(empty, 401, "invalid_refresh_token")


# --- Body transport ------------------------------------------------------------------------


async def test_login_with_body_transport_returns_the_refresh_token_in_json_and_no_cookie(client):
    await sign_up(client)
    client.cookies.clear()

    response = await client.post(
        "/auth/login",
        json={"email": "user@site.com", "password": PASSWORD},
        headers=BODY_TRANSPORT,
    )

    assert response.status_code == 200, response.text
    body = response.json()
    assert_token_body(body, user=True, in_body=True)
    assert len(body["refresh_token"]) >= 43
    assert body["refresh_expires_in"] == REFRESH_TTL
    assert "set-cookie" not in response.headers
    assert response.headers["cache-control"] == "no-store"


async def test_register_with_body_transport_returns_the_refresh_token_in_json(client):
    response = await client.post(
        "/auth/register",
        json={"email": "user@site.com", "password": PASSWORD},
        headers=BODY_TRANSPORT,
    )

    assert response.status_code == 201, response.text
    assert_token_body(response.json(), user=True, in_body=True)
    assert "set-cookie" not in response.headers


async def test_a_script_cannot_turn_the_httponly_cookie_into_a_token_it_reads(client):
    """A script on an allowed origin sends the browser's cookie with X-Auth-Transport: body:
    the answer must not put the cookie's successor in the JSON it reads."""
    await sign_up(client)  # the browser holds the HttpOnly refresh cookie

    response = await client.post("/auth/refresh", headers=BODY_TRANSPORT)

    body = assert_problem(response, 401, "invalid_refresh_token")
    assert "refresh_token" not in body
    assert (await client.post("/auth/refresh")).status_code == 200  # the cookie still works


async def test_refresh_with_body_transport_returns_the_next_token_in_the_body(client, clock):
    registered = await client.post(
        "/auth/register",
        json={"email": "user@site.com", "password": PASSWORD},
        headers=BODY_TRANSPORT,
    )
    first = registered.json()["refresh_token"]

    response = await client.post(
        "/auth/refresh", json={"refresh_token": first}, headers=BODY_TRANSPORT
    )

    assert response.status_code == 200, response.text
    body = response.json()
    assert_token_body(body, user=False, in_body=True)
    assert body["refresh_token"] != first
    assert body["refresh_expires_in"] == REFRESH_TTL
    assert "set-cookie" not in response.headers
    await assert_access_works(client, body["access_token"])

    clock.advance(GRACE + 1)
    onwards = await client.post(
        "/auth/refresh", json={"refresh_token": body["refresh_token"]}, headers=BODY_TRANSPORT
    )
    assert onwards.status_code == 200, onwards.text
    replay = await client.post(
        "/auth/refresh", json={"refresh_token": first}, headers=BODY_TRANSPORT
    )
    assert_problem(replay, 401, "refresh_token_reused")


# --- CSRF ----------------------------------------------------------------------------------


async def test_get_refresh_answers_405_naming_post_in_allow(client):
    await sign_up(client)

    response = await client.get("/auth/refresh")

    assert response.status_code == 405, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    assert response.json()["code"]
    assert no_refresh_cookie(response)
    # RFC 9110 §15.5.6: a 405 response MUST carry Allow.
    allowed = {m.strip().upper() for m in response.headers.get("allow", "").split(",")}
    assert allowed - {"OPTIONS"} == {"POST"}, response.headers


async def test_refresh_from_a_foreign_origin_answers_403_origin_not_allowed(client):
    device = await sign_up(client)

    response = await client.post("/auth/refresh", headers={"Origin": "https://evil.example"})

    assert_problem(response, 403, "origin_not_allowed")
    assert no_refresh_cookie(response)
    # The refused request rotated nothing: the cookie still works.
    assert (await refresh_with(client, device.refresh_token)).status_code == 200


async def test_refresh_from_a_lookalike_origin_answers_403(client):
    await sign_up(client)

    for origin in ["null", "https://testserver.local.evil.example", "http://testserver.local"]:
        response = await client.post("/auth/refresh", headers={"Origin": origin})

        assert_problem(response, 403, "origin_not_allowed")


async def test_refresh_from_the_services_own_origin_is_fine(client):
    await sign_up(client)

    response = await client.post("/auth/refresh", headers={"Origin": BASE_URL})

    assert response.status_code == 200, response.text


async def test_refresh_from_an_allowed_origin_is_fine(make_client):
    async with make_client(allowed_origins=("https://app.example",)) as client:
        await sign_up(client)

        allowed = await client.post("/auth/refresh", headers={"Origin": "https://app.example"})
        foreign = await client.post("/auth/refresh", headers={"Origin": "https://evil.example"})

    assert allowed.status_code == 200, allowed.text
    assert_problem(foreign, 403, "origin_not_allowed")
