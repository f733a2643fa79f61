"""POST /auth/logout ends one session; POST /auth/revoke ends all of them."""

from __future__ import annotations

import pytest

from tests.http.helpers import (
    BODY_TRANSPORT,
    COOKIE,
    PASSWORD,
    assert_access_rejected,
    assert_access_works,
    assert_problem,
    refresh_with,
    set_cookies,
    sign_in,
    sign_up,
    the_refresh_cookie,
)


def assert_cookie_cleared(response) -> None:
    """``Set-Cookie: refresh_id=; Max-Age=0; Path=/auth``."""
    cleared = [c for c in set_cookies(response) if c.name == COOKIE]
    assert len(cleared) == 1, response.headers.get_list("set-cookie")
    cookie = cleared[0]
    assert cookie.value == "", cookie.raw
    assert cookie.attributes.get("max-age") == "0", cookie.raw
    assert cookie.attributes.get("path") == "/auth", cookie.raw


async def assert_session_dead(client, device) -> None:
    assert_problem(await refresh_with(client, device.refresh_token), 401, "invalid_refresh_token")
    await assert_access_rejected(client, device.access_token)


async def assert_session_alive(client, device) -> None:
    await assert_access_works(client, device.access_token)
    response = await refresh_with(client, device.refresh_token)
    assert response.status_code == 200, response.text


# --- Logout --------------------------------------------------------------------------------


async def test_logout_answers_204_and_clears_the_cookie(client):
    await sign_up(client)

    response = await client.post("/auth/logout")  # the browser sends the cookie by itself

    assert response.status_code == 204, response.text
    assert response.content == b""
    assert_cookie_cleared(response)
    assert client.cookies.get(COOKIE) is None


async def test_after_logout_the_old_cookie_cannot_refresh_and_the_access_token_fails_at_once(
    client,
):
    device = await sign_up(client)
    await assert_access_works(client, device.access_token)

    await client.post("/auth/logout", headers=device.cookie)

    assert_problem(await refresh_with(client, device.refresh_token), 401, "invalid_refresh_token")
    await assert_access_rejected(client, device.access_token)


async def test_logout_again_with_the_dead_cookie_answers_204(client):
    device = await sign_up(client)
    first = await client.post("/auth/logout", headers=device.cookie)

    again = await client.post("/auth/logout", headers=device.cookie)

    assert first.status_code == 204, first.text
    assert again.status_code == 204, again.text
    assert_cookie_cleared(again)


async def test_logout_without_a_cookie_or_with_an_unknown_one_answers_204(client):
    for headers in [{}, *({"Cookie": f"{COOKIE}={t}"} for t in ["garbage", "A" * 43, "x" * 5000])]:
        response = await client.post("/auth/logout", headers=headers)

        assert response.status_code == 204, response.text
        assert_cookie_cleared(response)


async def test_logout_ends_only_that_session(client):
    leaving = await sign_up(client)
    staying = await sign_in(client)

    await client.post("/auth/logout", headers=leaving.cookie)

    await assert_session_dead(client, leaving)
    await assert_session_alive(client, staying)


async def test_logout_with_the_refresh_token_in_the_body_ends_the_session(client):
    registered = await client.post(
        "/auth/register",
        json={"email": "user@site.com", "password": PASSWORD},
        headers=BODY_TRANSPORT,
    )
    body = registered.json()

    response = await client.post(
        "/auth/logout", json={"refresh_token": body["refresh_token"]}, headers=BODY_TRANSPORT
    )

    assert response.status_code == 204, response.text
    await assert_access_rejected(client, body["access_token"])
    refresh = await client.post(
        "/auth/refresh", json={"refresh_token": body["refresh_token"]}, headers=BODY_TRANSPORT
    )
    assert_problem(refresh, 401, "invalid_refresh_token")


async def test_logout_of_a_rotated_session_with_the_current_cookie_ends_it(client):
    device = await sign_up(client)
    rotated = await refresh_with(client, device.refresh_token)
    current = the_refresh_cookie(rotated).value
    new_access = rotated.json()["access_token"]

    await client.post("/auth/logout", headers={"Cookie": f"{COOKIE}={current}"})

    assert_problem(await refresh_with(client, current), 401, "invalid_refresh_token")
    await assert_access_rejected(client, new_access)


async def test_logout_from_a_foreign_origin_answers_403_and_ends_nothing(client):
    device = await sign_up(client)

    response = await client.post(
        "/auth/logout", headers={**device.cookie, "Origin": "https://evil.example"}
    )

    assert_problem(response, 403, "origin_not_allowed")
    await assert_session_alive(client, device)


# --- Revoke --------------------------------------------------------------------------------


@pytest.fixture
async def three_devices(client):
    first = await sign_up(client)
    return [first, await sign_in(client), await sign_in(client)]


async def test_revoke_answers_204_and_every_device_loses_its_refresh_and_access(
    client, three_devices
):
    caller = three_devices[0]

    response = await client.post("/auth/revoke", headers=caller.headers)

    assert response.status_code == 204, response.text
    assert response.content == b""
    for device in three_devices:
        await assert_session_dead(client, device)
    # The revoked token cannot revoke again; a fresh sign-in works.
    assert_problem(await client.post("/auth/revoke", headers=caller.headers), 401, "invalid_token")
    await assert_session_alive(client, await sign_in(client))


async def test_revoke_with_keep_current_false_ends_every_session_too(client):
    caller = await sign_up(client)
    other = await sign_in(client)

    response = await client.post(
        "/auth/revoke", json={"keep_current": False}, headers=caller.headers
    )

    assert response.status_code == 204, response.text
    await assert_session_dead(client, caller)
    await assert_session_dead(client, other)


async def test_revoke_with_keep_current_keeps_the_callers_session_and_kills_the_others(
    client, three_devices
):
    caller, *others = three_devices

    response = await client.post(
        "/auth/revoke", json={"keep_current": True}, headers=caller.headers
    )

    assert response.status_code == 204, response.text
    await assert_session_alive(client, caller)
    for device in others:
        await assert_session_dead(client, device)


async def test_revoke_leaves_other_users_alone(client):
    mine = await sign_up(client, email="me@site.com")
    theirs = await sign_up(client, email="them@site.com")

    await client.post("/auth/revoke", headers=mine.headers)

    await assert_session_dead(client, mine)
    await assert_session_alive(client, theirs)


async def test_revoke_without_a_token_answers_401(client):
    device = await sign_up(client)

    response = await client.post("/auth/revoke", headers=device.cookie)

    assert_problem(response, 401, "invalid_token")
    assert response.headers["www-authenticate"] == 'Bearer error="invalid_token"'
    await assert_session_alive(client, device)
