"""Disable, enable, unlock and delete: what each does to the user's sign-ins and sessions."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from infrastructure.config import Settings
from infrastructure.persistence.administration import SqlUserAdministration
from tests.http.admin_helpers import an_admin, count_rows, set_role
from tests.http.helpers import (
    PASSWORD,
    assert_access_rejected,
    assert_access_works,
    assert_problem,
    refresh_with,
    sign_in,
    sign_up,
)

EMAIL = "user@site.com"


async def test_disabling_refuses_its_tokens_at_once_its_logins_403_and_its_refresh_401(
    client: Any, settings: Settings
) -> None:
    admin = await an_admin(client, settings)
    device = await sign_up(client, EMAIL)
    other = await sign_in(client, EMAIL)
    user_id = device.body["user"]["id"]

    response = await client.post(f"/admin/users/{user_id}/disable", headers=admin.headers)

    assert response.status_code == 204, response.text
    await assert_access_rejected(client, device.access_token)
    await assert_access_rejected(client, other.access_token)
    assert_problem(await refresh_with(client, device.refresh_token), 401, "invalid_refresh_token")
    login = await client.post("/auth/login", json={"email": EMAIL, "password": PASSWORD})
    assert_problem(login, 403, "account_disabled")
    shown = await client.get(f"/admin/users/{user_id}", headers=admin.headers)
    assert shown.json()["disabled"] is True
    assert shown.json()["live_sessions"] == 0


async def test_a_wrong_password_on_a_disabled_account_says_nothing_about_it(
    client: Any, settings: Settings
) -> None:
    admin = await an_admin(client, settings)
    device = await sign_up(client, EMAIL)
    await client.post(f"/admin/users/{device.body['user']['id']}/disable", headers=admin.headers)

    login = await client.post("/auth/login", json={"email": EMAIL, "password": "wrong-password"})

    assert_problem(login, 401, "invalid_credentials")


async def test_enabling_lets_the_user_sign_in_again(client: Any, settings: Settings) -> None:
    admin = await an_admin(client, settings)
    device = await sign_up(client, EMAIL)
    user_id = device.body["user"]["id"]
    await client.post(f"/admin/users/{user_id}/disable", headers=admin.headers)

    response = await client.post(f"/admin/users/{user_id}/enable", headers=admin.headers)

    assert response.status_code == 204
    again = await sign_in(client, EMAIL)
    await assert_access_works(client, again.access_token)
    assert (await refresh_with(client, again.refresh_token)).status_code == 200


async def test_the_users_activity_shows_an_admins_action_but_not_the_admins_address(
    client: Any, settings: Settings
) -> None:
    ada = await sign_up(client, "ada@site.com")
    admin = await an_admin(client, settings)
    user_id = ada.body["user"]["id"]
    console = {**admin.headers, "User-Agent": "AdminConsole/7 (ops-laptop-42)"}
    assert (await client.post(f"/admin/users/{user_id}/disable", headers=console)).is_success
    assert (await client.post(f"/admin/users/{user_id}/enable", headers=console)).is_success

    again = await sign_in(client, "ada@site.com")
    entries = (await client.get("/auth/activity", headers=again.headers)).json()["activity"]

    by_admin = [e["type"] for e in entries if e["by_admin"]]
    assert by_admin == ["user_enabled", "user_disabled"]
    assert not [e for e in entries if "AdminConsole" in str(e["user_agent"])]
    assert not [e for e in entries if e["by_admin"] and e["ip_address"] is not None]


@pytest.mark.parametrize(
    ("other_admins", "code"),
    [(1, "own_account"), (0, "last_admin")],  # the last active admin: nobody's to lose
)
async def test_admins_cannot_disable_or_delete_their_own_account(
    client: Any, settings: Settings, other_admins: int, code: str
) -> None:
    admin = await an_admin(client, settings)
    admin_id = admin.body["user"]["id"]
    for n in range(other_admins):
        other = await sign_up(client, f"other-admin{n}@site.com")
        await set_role(settings, other.body["user"]["id"], "admin")

    disable = await client.post(f"/admin/users/{admin_id}/disable", headers=admin.headers)
    delete = await client.delete(f"/admin/users/{admin_id}", headers=admin.headers)

    assert_problem(disable, 409, code)
    assert_problem(delete, 409, code)
    await assert_access_works(client, admin.access_token)


async def test_unlock_lifts_the_login_limit_of_the_account(
    make_client: Any, settings: Settings
) -> None:
    async with make_client(login_limit=1) as client:
        admin = await an_admin(client, settings)
        device = await sign_up(client, EMAIL)
        await client.post("/auth/login", json={"email": EMAIL, "password": "wrong-password"})
        locked = await client.post("/auth/login", json={"email": EMAIL, "password": PASSWORD})
        assert_problem(locked, 429, "too_many_requests")

        response = await client.post(
            f"/admin/users/{device.body['user']['id']}/unlock", headers=admin.headers
        )

        assert response.status_code == 204
        await sign_in(client, EMAIL)


@pytest.mark.every_deployment
async def test_deleting_erases_the_user_its_identities_sessions_and_grants(
    client: Any, settings: Settings
) -> None:
    admin = await an_admin(client, settings)
    device = await sign_up(client, EMAIL)
    user_id = device.body["user"]["id"]
    assert await count_rows(settings, "sessions", user_id) == 1

    response = await client.delete(f"/admin/users/{user_id}", headers=admin.headers)

    assert response.status_code == 204
    for table in ("users", "user_identities", "sessions"):
        assert await count_rows(settings, table, user_id) == 0, table
    if settings.grants_url == "database":
        assert await count_rows(settings, "refresh_families", user_id) == 0
    await assert_access_rejected(client, device.access_token)
    assert_problem(await refresh_with(client, device.refresh_token), 401, "invalid_refresh_token")
    assert_problem(
        await client.get(f"/admin/users/{user_id}", headers=admin.headers), 404, "user_not_found"
    )
    await sign_up(client, EMAIL)  # the address is free again


async def test_a_disabled_admin_does_not_count_as_the_one_left(
    client: Any, settings: Settings
) -> None:
    admin = await an_admin(client, settings)
    other = await sign_up(client, "other-admin@site.com")
    other_id = other.body["user"]["id"]
    await set_role(settings, other_id, "admin")
    disabled = await client.post(f"/admin/users/{other_id}/disable", headers=admin.headers)
    assert disabled.status_code == 204

    deleted = await client.delete(f"/admin/users/{admin.body['user']['id']}", headers=admin.headers)

    assert_problem(deleted, 409, "last_admin")


async def test_two_admins_disabling_each_other_at_once_leave_one(
    concurrent_client: Any, settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Each use case looks first; the change itself checks again under one lock, so the
    second of two racing disablings finds the first done and answers 409 last_admin."""
    looked = SqlUserAdministration.last_active_admin

    async def a_slow_look(self: SqlUserAdministration, user_id: int) -> bool:
        answer = await looked(self, user_id)
        await asyncio.sleep(0.2)  # both look before either changes anything
        return answer

    async with concurrent_client() as client:
        a = await an_admin(client, settings)
        b = await sign_up(client, "b@site.com")
        await set_role(settings, b.body["user"]["id"], "admin")
        b = await sign_in(client, "b@site.com")
        a_id, b_id = a.body["user"]["id"], b.body["user"]["id"]
        monkeypatch.setattr(SqlUserAdministration, "last_active_admin", a_slow_look)

        answers = await asyncio.gather(
            client.post(f"/admin/users/{b_id}/disable", headers=a.headers),
            client.post(f"/admin/users/{a_id}/disable", headers=b.headers),
        )

    assert sorted(answer.status_code for answer in answers) == [204, 409]
    refused = next(answer for answer in answers if answer.status_code == 409)
    assert_problem(refused, 409, "last_admin")
