"""Login CSRF: a cross-site page must not sign the victim's browser into the attacker's
account (OWASP CSRF Prevention Cheat Sheet, "Login CSRF"). Register and login refuse a
foreign Origin like refresh and logout do; no Origin at all is a non-browser client."""

from __future__ import annotations

from typing import Any

import pytest

from tests.http.helpers import BASE_URL, PASSWORD, assert_problem, no_refresh_cookie, register

EVIL = "https://evil.example"
APP = "https://app.example"
FORM = {"Content-Type": "application/x-www-form-urlencoded"}


async def sign_in_as(client: Any, how: str, origin: str | None) -> Any:
    headers = {"Origin": origin} if origin else {}
    if how == "form":
        return await client.post(
            "/auth/login",
            content=f"username=user%40site.com&password={PASSWORD}".encode(),
            headers={**FORM, **headers},
        )
    return await client.post(
        "/auth/login", json={"email": "user@site.com", "password": PASSWORD}, headers=headers
    )


@pytest.mark.parametrize("how", ["json", "form"])
async def test_a_login_from_a_foreign_origin_answers_403_and_sets_no_cookie(client, how):
    await register(client)
    client.cookies.clear()

    response = await sign_in_as(client, how, EVIL)

    assert_problem(response, 403, "origin_not_allowed")
    assert no_refresh_cookie(response)
    assert "access_token" not in response.text


async def test_a_register_from_a_foreign_origin_answers_403_and_creates_no_account(client):
    response = await client.post(
        "/auth/register",
        json={"email": "user@site.com", "password": PASSWORD},
        headers={"Origin": EVIL},
    )

    assert_problem(response, 403, "origin_not_allowed")
    assert no_refresh_cookie(response)
    login = await client.post("/auth/login", json={"email": "user@site.com", "password": PASSWORD})
    assert_problem(login, 401, "invalid_credentials")


@pytest.mark.parametrize("how", ["json", "form"])
@pytest.mark.parametrize("origin", [BASE_URL, BASE_URL + "/", None])
async def test_a_login_from_our_own_origin_or_without_origin_signs_in(client, how, origin):
    await register(client)
    client.cookies.clear()

    response = await sign_in_as(client, how, origin)

    assert response.status_code == 200, response.text
    assert not no_refresh_cookie(response)


async def test_register_and_login_from_an_allowed_origin_sign_in(make_client: Any) -> None:
    async with make_client(allowed_origins=(APP,)) as client:
        registered = await client.post(
            "/auth/register",
            json={"email": "user@site.com", "password": PASSWORD},
            headers={"Origin": APP},
        )
        form_login = await sign_in_as(client, "form", APP)

    assert registered.status_code == 201, registered.text
    assert form_login.status_code == 200, form_login.text
    assert not no_refresh_cookie(form_login)


async def test_an_origin_allowed_for_one_deployment_is_foreign_to_another(client) -> None:
    response = await client.post(
        "/auth/register",
        json={"email": "user@site.com", "password": PASSWORD},
        headers={"Origin": APP},
    )

    assert_problem(response, 403, "origin_not_allowed")
