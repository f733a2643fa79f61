"""The admin API lets admins only, and lists users a page at a time."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from domain.entities import ExternalIdentity
from infrastructure.config import Settings
from infrastructure.persistence.users import SqlUserRepository
from interfaces.bootstrap.backends import open_database
from tests.http.admin_helpers import ADMIN_EMAIL, an_admin, set_role
from tests.http.helpers import assert_problem, bearer, refresh_with, sign_in, sign_up

ADMIN_KEYS = {"id", "email", "name", "role", "is_admin", "created_at", "email_verified", "disabled"}


async def test_admin_api_needs_a_valid_token_and_the_admin_role(
    client: Any, settings: Settings
) -> None:
    user = await sign_up(client, "user@site.com")
    admin = await an_admin(client, settings)

    assert_problem(await client.get("/admin/users"), 401, "invalid_token")
    assert_problem(await client.get("/admin/users", headers=bearer("x.y.z")), 401, "invalid_token")
    for method, path in [
        ("GET", "/admin/users"),
        ("GET", f"/admin/users/{admin.body['user']['id']}"),
        ("POST", f"/admin/users/{admin.body['user']['id']}/disable"),
        ("DELETE", f"/admin/users/{admin.body['user']['id']}"),
    ]:
        refused = await client.request(method, path, headers=user.headers)
        assert_problem(refused, 403, "forbidden")
    assert (await client.get("/admin/users", headers=admin.headers)).status_code == 200


async def test_a_demoted_admin_is_refused_at_once_even_with_its_admin_token(
    client: Any, settings: Settings
) -> None:
    admin = await an_admin(client, settings)
    other = await sign_up(client, "other-admin@site.com")
    await set_role(settings, other.body["user"]["id"], "admin")  # not the last admin then
    await set_role(settings, admin.body["user"]["id"], "user")

    # Its sessions ended with the demotion: the token is no one's any more.
    assert_problem(await client.get("/admin/users", headers=admin.headers), 401, "invalid_token")
    # Signed in again, a user: the role is read from the database on every admin request.
    again = await sign_in(client, ADMIN_EMAIL)
    assert_problem(await client.get("/admin/users", headers=again.headers), 403, "forbidden")


INTROSPECTOR = ("orders", "orders-secret-0123456789abcdefghijkl")


async def test_a_demoted_admins_sessions_end_so_no_resource_server_takes_its_token_as_admin(
    make_client: Any, settings: Settings
) -> None:
    """Its access token said ``admin`` until it expired, and introspection (the resource
    servers' source of truth) vouched for it. Every session of a demoted admin ends: the
    token is refused everywhere at once. A promotion ends nothing."""
    name, secret = INTROSPECTOR
    async with make_client(introspection_clients=(f"{name}:{secret}",)) as client:
        admin = await an_admin(client, settings)
        other = await sign_up(client, "other-admin@site.com")
        await set_role(settings, other.body["user"]["id"], "admin")  # not the last admin then
        assert (await refresh_with(client, other.refresh_token)).status_code == 200

        await set_role(settings, admin.body["user"]["id"], "user")

        answer = await client.post(
            "/auth/introspect", data={"token": admin.access_token}, auth=(name, secret)
        )
        assert answer.json() == {"active": False}
        assert (await client.get("/auth/me", headers=admin.headers)).status_code == 401
        assert (await refresh_with(client, admin.refresh_token)).status_code == 401


async def test_users_come_a_page_at_a_time_until_next_cursor_is_null(
    client: Any, settings: Settings
) -> None:
    admin = await an_admin(client, settings)
    for n in range(4):
        await sign_up(client, f"user{n}@site.com")

    seen: list[dict[str, Any]] = []
    cursor: str | None = None
    pages = 0
    while True:
        params = {"limit": 2, **({"cursor": cursor} if cursor else {})}
        response = await client.get("/admin/users", params=params, headers=admin.headers)
        assert response.status_code == 200, response.text
        body = response.json()
        assert set(body) == {"users", "next_cursor"}
        seen += body["users"]
        pages += 1
        cursor = body["next_cursor"]
        if cursor is None:
            break

    assert pages == 3
    assert [u["email"] for u in seen] == [ADMIN_EMAIL] + [f"user{n}@site.com" for n in range(4)]
    assert all(set(u) == ADMIN_KEYS and u["disabled"] is False for u in seen)
    assert [u["id"] for u in seen] == sorted(u["id"] for u in seen)


async def test_email_is_an_exact_match_on_the_normalised_email(
    client: Any, settings: Settings
) -> None:
    admin = await an_admin(client, settings)
    await sign_up(client, "someone@site.com")
    await sign_up(client, "someone.else@site.com")

    found = await client.get(
        "/admin/users", params={"email": " SomeOne@Site.com "}, headers=admin.headers
    )
    none = await client.get(
        "/admin/users", params={"email": "some@site.com"}, headers=admin.headers
    )

    assert [u["email"] for u in found.json()["users"]] == ["someone@site.com"]
    assert found.json()["next_cursor"] is None
    assert none.json() == {"users": [], "next_cursor": None}


async def test_a_garbage_cursor_or_a_limit_out_of_bounds_is_refused(
    client: Any, settings: Settings
) -> None:
    admin = await an_admin(client, settings)
    for params in [
        {"cursor": "not-a-cursor"},
        {"cursor": "YWZ0ZXI6LTE"},  # "after:-1"
        {"cursor": "!!!"},
        {"limit": 0},
        {"limit": 201},
        {"limit": "many"},
        {"email": "not an email"},
    ]:
        response = await client.get("/admin/users", params=params, headers=admin.headers)
        assert_problem(response, 422, "validation_failed")


async def test_one_user_shows_its_identities_and_live_sessions(
    client: Any, settings: Settings
) -> None:
    admin = await an_admin(client, settings)
    user = await sign_up(client, "user@site.com")
    await sign_in(client, "user@site.com")
    user_id = user.body["user"]["id"]
    database = open_database(settings)
    try:
        await SqlUserRepository(database).link_identity(
            ExternalIdentity(
                provider="https://accounts.google.com",
                subject="1234",
                user_id=user_id,
                email="user@gmail.com",
                created_at=datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC),
            )
        )
    finally:
        await database.close()

    response = await client.get(f"/admin/users/{user_id}", headers=admin.headers)

    assert response.status_code == 200, response.text
    body = response.json()
    assert set(body) == ADMIN_KEYS | {"identities", "live_sessions"}
    assert body["email"] == "user@site.com"
    assert body["live_sessions"] == 2
    assert body["identities"] == [
        {
            "provider": "https://accounts.google.com",
            "email": "user@gmail.com",
            "created_at": "2026-01-02T03:04:05Z",
        }
    ]


async def test_an_unknown_user_is_404_on_every_operation(client: Any, settings: Settings) -> None:
    admin = await an_admin(client, settings)
    for method, path in [
        ("GET", "/admin/users/999999"),
        ("POST", "/admin/users/999999/disable"),
        ("POST", "/admin/users/999999/enable"),
        ("POST", "/admin/users/999999/unlock"),
        ("DELETE", "/admin/users/999999"),
        ("GET", f"/admin/users/{2**70}"),
    ]:
        response = await client.request(method, path, headers=admin.headers)
        assert_problem(response, 404, "user_not_found")
