"""GET /auth/sessions lists the caller's live devices; DELETE /auth/sessions/{id} ends one."""

from __future__ import annotations

from tests.http.helpers import (
    ISO_SECOND,
    assert_access_rejected,
    assert_access_works,
    assert_problem,
    jwt_parts,
    refresh_with,
    sign_in,
    sign_up,
)

SESSION_KEYS = {"id", "created_at", "last_used_at", "ip_address", "user_agent", "current"}
PHONE = {"User-Agent": "Phone/1.0"}
LAPTOP = {"User-Agent": "Laptop/2.0"}


async def list_sessions(client, device) -> list[dict]:
    response = await client.get("/auth/sessions", headers=device.headers)
    assert response.status_code == 200, response.text
    body = response.json()
    assert set(body) == {"sessions"}
    return body["sessions"]


def by_agent(sessions: list[dict], agent: str) -> dict:
    [session] = [s for s in sessions if s["user_agent"] == agent]
    return session


async def test_sessions_lists_every_live_session_with_its_details(client):
    await sign_up(client)
    phone = await sign_in(client, headers=PHONE)
    await sign_in(client, headers=LAPTOP)

    response = await client.get("/auth/sessions", headers=phone.headers)

    assert response.status_code == 200, response.text
    assert response.headers["cache-control"] == "no-store"
    sessions = response.json()["sessions"]
    assert len(sessions) == 3
    for session in sessions:
        assert set(session) == SESSION_KEYS
        assert isinstance(session["id"], str)
        assert session["id"]
        assert ISO_SECOND.match(session["created_at"]), session
        assert ISO_SECOND.match(session["last_used_at"]), session
        assert session["ip_address"] is None or isinstance(session["ip_address"], str)
        assert isinstance(session["current"], bool)
    assert len({s["id"] for s in sessions}) == 3
    assert sorted(s["user_agent"] for s in sessions) == ["Laptop/2.0", "Phone/1.0", "testclient"]


async def test_exactly_one_session_is_current_and_it_is_the_callers(client):
    await sign_up(client)
    phone = await sign_in(client, headers=PHONE)
    laptop = await sign_in(client, headers=LAPTOP)

    from_phone = await list_sessions(client, phone)
    from_laptop = await list_sessions(client, laptop)

    assert [s["user_agent"] for s in from_phone if s["current"]] == ["Phone/1.0"]
    assert [s["user_agent"] for s in from_laptop if s["current"]] == ["Laptop/2.0"]
    assert by_agent(from_phone, "Phone/1.0")["id"] == jwt_parts(phone.access_token)[1]["sid"]


async def test_a_rotated_session_is_still_one_session_with_a_later_last_used_at(client, clock):
    device = await sign_up(client)
    [before] = await list_sessions(client, device)

    clock.advance(60)
    rotated = await refresh_with(client, device.refresh_token)
    assert rotated.status_code == 200, rotated.text
    after = await client.get(
        "/auth/sessions", headers={"Authorization": f"Bearer {rotated.json()['access_token']}"}
    )

    [session] = after.json()["sessions"]
    assert session["id"] == before["id"]
    assert session["current"] is True
    assert session["created_at"] == before["created_at"]
    assert session["last_used_at"] > before["last_used_at"]


async def test_sessions_leaves_out_logged_out_sessions(client):
    staying = await sign_up(client)
    leaving = await sign_in(client, headers=PHONE)

    await client.post("/auth/logout", headers=leaving.cookie)

    sessions = await list_sessions(client, staying)
    assert [s["user_agent"] for s in sessions] == ["testclient"]


async def test_sessions_shows_only_the_callers_own_sessions(client):
    mine = await sign_up(client, email="me@site.com")
    await sign_up(client, email="them@site.com")

    sessions = await list_sessions(client, mine)

    assert len(sessions) == 1
    assert sessions[0]["id"] == jwt_parts(mine.access_token)[1]["sid"]


async def test_sessions_and_delete_session_without_a_token_answer_401(client):
    device = await sign_up(client)
    own_id = jwt_parts(device.access_token)[1]["sid"]

    listing = await client.get("/auth/sessions")
    deleting = await client.delete(f"/auth/sessions/{own_id}")

    for response in (listing, deleting):
        assert_problem(response, 401, "invalid_token")
        assert response.headers["www-authenticate"] == 'Bearer error="invalid_token"'
    await assert_access_works(client, device.access_token)


async def test_delete_session_answers_204_and_that_sessions_tokens_die(client):
    caller = await sign_up(client)
    phone = await sign_in(client, headers=PHONE)
    phone_id = by_agent(await list_sessions(client, caller), "Phone/1.0")["id"]

    response = await client.delete(f"/auth/sessions/{phone_id}", headers=caller.headers)

    assert response.status_code == 204, response.text
    assert response.content == b""
    assert_problem(await refresh_with(client, phone.refresh_token), 401, "invalid_refresh_token")
    await assert_access_rejected(client, phone.access_token)
    # The caller's own session is untouched.
    await assert_access_works(client, caller.access_token)
    assert phone_id not in [s["id"] for s in await list_sessions(client, caller)]


async def test_delete_of_the_current_session_ends_the_callers_own_session(client):
    caller = await sign_up(client)
    own_id = jwt_parts(caller.access_token)[1]["sid"]

    response = await client.delete(f"/auth/sessions/{own_id}", headers=caller.headers)

    assert response.status_code == 204, response.text
    await assert_access_rejected(client, caller.access_token)
    assert_problem(await refresh_with(client, caller.refresh_token), 401, "invalid_refresh_token")


async def test_delete_of_another_users_session_answers_404_and_ends_nothing(client):
    attacker = await sign_up(client, email="attacker@site.com")
    victim = await sign_up(client, email="victim@site.com")
    victim_id = jwt_parts(victim.access_token)[1]["sid"]

    response = await client.delete(f"/auth/sessions/{victim_id}", headers=attacker.headers)

    assert_problem(response, 404, "session_not_found")
    await assert_access_works(client, victim.access_token)
    assert (await refresh_with(client, victim.refresh_token)).status_code == 200


async def test_delete_of_an_unknown_or_ended_session_answers_404_session_not_found(client):
    caller = await sign_up(client)
    phone = await sign_in(client, headers=PHONE)
    phone_id = jwt_parts(phone.access_token)[1]["sid"]
    await client.post("/auth/logout", headers=phone.cookie)

    for session_id in ["no-such-session", phone_id]:
        response = await client.delete(f"/auth/sessions/{session_id}", headers=caller.headers)

        assert_problem(response, 404, "session_not_found")
