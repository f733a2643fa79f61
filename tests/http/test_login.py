"""POST /auth/login: JSON email, JSON username or an OAuth2-style form; same body as register."""

from __future__ import annotations

import pytest

from tests.http.helpers import (
    PASSWORD,
    assert_problem,
    assert_refresh_cookie,
    assert_token_body,
    assert_user,
    register,
    the_refresh_cookie,
)


@pytest.fixture
async def user(client):
    return (await register(client, name="User"))["user"]


def assert_signed_in(response, user) -> None:
    assert response.status_code == 200, response.text
    body = response.json()
    assert_token_body(body, user=True)
    assert body["user"] == user
    assert_user(body["user"], "user@site.com", "User")
    assert_refresh_cookie(the_refresh_cookie(response))
    assert response.headers["cache-control"] == "no-store"


async def test_login_with_json_email_and_password_answers_200_with_body_and_cookie(client, user):
    response = await client.post(
        "/auth/login", json={"email": "user@site.com", "password": PASSWORD}
    )

    assert_signed_in(response, user)


async def test_login_with_json_username_and_password_answers_the_same(client, user):
    response = await client.post(
        "/auth/login", json={"username": "user@site.com", "password": PASSWORD}
    )

    assert_signed_in(response, user)


async def test_login_with_a_form_encoded_username_and_password_answers_the_same(client, user):
    response = await client.post(
        "/auth/login", data={"username": "user@site.com", "password": PASSWORD}
    )

    assert response.request.headers["content-type"] == "application/x-www-form-urlencoded"
    assert_signed_in(response, user)


async def test_login_takes_the_email_in_any_case(client, user):
    response = await client.post(
        "/auth/login", json={"email": "USER@Site.com", "password": PASSWORD}
    )

    assert_signed_in(response, user)


async def test_each_login_starts_a_new_session_with_a_new_cookie(client, user):
    registered_cookie = client.cookies.get("refresh_id")

    response = await client.post(
        "/auth/login", json={"email": "user@site.com", "password": PASSWORD}
    )

    assert response.status_code == 200, response.text
    assert the_refresh_cookie(response).value != registered_cookie


async def test_wrong_password_and_unknown_email_give_the_same_401_invalid_credentials(client, user):
    client.cookies.clear()
    wrong_password = await client.post(
        "/auth/login", json={"email": "user@site.com", "password": "wrong-password"}
    )
    unknown_email = await client.post(
        "/auth/login", json={"email": "nobody@site.com", "password": PASSWORD}
    )

    assert_problem(wrong_password, 401, "invalid_credentials")
    assert_problem(unknown_email, 401, "invalid_credentials")
    assert wrong_password.content == unknown_email.content
    assert wrong_password.json() == {
        "type": "about:blank",
        "title": "Unauthorized",
        "status": 401,
        "detail": "Invalid email or password.",
        "code": "invalid_credentials",
    }
    assert "set-cookie" not in wrong_password.headers
    assert "set-cookie" not in unknown_email.headers
    assert "www-authenticate" not in wrong_password.headers


async def test_a_form_login_with_a_wrong_password_answers_401_invalid_credentials(client, user):
    response = await client.post(
        "/auth/login", data={"username": "user@site.com", "password": "wrong-password"}
    )

    assert_problem(response, 401, "invalid_credentials")


async def test_login_without_a_password_answers_422_on_the_password_field(client):
    for body in [{"email": "user@site.com"}, {"username": "user@site.com"}]:
        response = await client.post("/auth/login", json=body)

        problem = assert_problem(response, 422, "validation_failed")
        assert [e["field"] for e in problem["errors"]] == ["password"], body

    form = await client.post("/auth/login", data={"username": "user@site.com"})

    problem = assert_problem(form, 422, "validation_failed")
    assert [e["field"] for e in problem["errors"]] == ["password"]


async def test_login_without_an_email_or_username_answers_422(client):
    response = await client.post("/auth/login", json={"password": PASSWORD})

    problem = assert_problem(response, 422, "validation_failed")
    assert [e["field"] for e in problem["errors"]] == ["email"]
