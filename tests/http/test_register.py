"""POST /auth/register: 201 with the login body and the refresh cookie."""

from __future__ import annotations

import pytest

from tests.http.helpers import (
    PASSWORD,
    assert_problem,
    assert_refresh_cookie,
    assert_token_body,
    assert_user,
    bearer,
    jwt_parts,
    register,
    the_refresh_cookie,
)


async def test_register_answers_201_with_the_token_body_and_the_user(client):
    response = await client.post(
        "/auth/register",
        json={"email": "user@site.com", "password": PASSWORD, "name": "User"},
    )

    assert response.status_code == 201, response.text
    assert response.headers["content-type"].startswith("application/json")
    body = response.json()
    assert_token_body(body, user=True)
    assert_user(body["user"], "user@site.com", "User")
    assert jwt_parts(body["access_token"])[1]["sub"] == str(body["user"]["id"])


async def test_register_sets_the_refresh_cookie_with_the_spec_attributes(client):
    response = await client.post(
        "/auth/register", json={"email": "user@site.com", "password": PASSWORD}
    )

    assert response.status_code == 201, response.text
    assert_refresh_cookie(the_refresh_cookie(response))


async def test_register_response_is_not_cacheable(client):
    response = await client.post(
        "/auth/register", json={"email": "user@site.com", "password": PASSWORD}
    )

    assert response.status_code == 201, response.text
    assert response.headers["cache-control"] == "no-store"


async def test_register_normalises_the_email_to_lower_case(client):
    body = await register(client, email="Mixed.Case@Site.COM")

    assert body["user"]["email"] == "mixed.case@site.com"
    me = await client.get("/auth/me", headers=bearer(body["access_token"]))
    assert me.json()["user"]["email"] == "mixed.case@site.com"


async def test_register_without_a_name_gives_a_null_name(client):
    body = await register(client)

    assert_user(body["user"], "user@site.com", None)


async def test_register_gives_each_user_its_own_id(client):
    first = await register(client, email="one@site.com")
    second = await register(client, email="two@site.com")

    assert first["user"]["id"] != second["user"]["id"]


async def test_register_with_a_taken_email_answers_409_email_taken(client):
    await register(client)

    response = await client.post(
        "/auth/register", json={"email": "user@site.com", "password": "another-password"}
    )

    assert_problem(response, 409, "email_taken")
    assert response.headers["content-type"].startswith("application/problem+json")


async def test_register_with_the_taken_email_in_other_case_answers_409_email_taken(client):
    await register(client)

    response = await client.post(
        "/auth/register", json={"email": "USER@Site.Com", "password": PASSWORD}
    )

    assert_problem(response, 409, "email_taken")


async def test_a_refused_register_sets_no_cookie(client):
    await register(client)
    client.cookies.clear()

    response = await client.post(
        "/auth/register", json={"email": "user@site.com", "password": PASSWORD}
    )

    assert_problem(response, 409, "email_taken")
    assert "set-cookie" not in response.headers


@pytest.mark.parametrize(
    "email",
    ["not-an-email", "user@", "@site.com", "user@site", "user site@site.com", ""],
)
async def test_register_with_an_invalid_email_answers_422_on_the_email_field(client, email):
    response = await client.post("/auth/register", json={"email": email, "password": PASSWORD})

    body = assert_problem(response, 422, "validation_failed")
    assert [e["field"] for e in body["errors"]] == ["email"]
    assert all(e["message"] for e in body["errors"])


@pytest.mark.parametrize("length", [0, 7, 1025])
async def test_register_with_a_password_out_of_8_to_1024_characters_answers_422(client, length):
    response = await client.post(
        "/auth/register", json={"email": "user@site.com", "password": "p" * length}
    )

    body = assert_problem(response, 422, "validation_failed")
    assert [e["field"] for e in body["errors"]] == ["password"]
    assert all(e["message"] for e in body["errors"])


async def test_register_with_both_fields_invalid_reports_both(client):
    response = await client.post("/auth/register", json={"email": "nope", "password": "short"})

    body = assert_problem(response, 422, "validation_failed")
    assert sorted(e["field"] for e in body["errors"]) == ["email", "password"]


@pytest.mark.parametrize("length", [8, 1024])
async def test_register_accepts_passwords_of_8_and_1024_characters(client, length):
    password = "p" * length
    body = await register(client, password=password)

    login = await client.post("/auth/login", json={"email": "user@site.com", "password": password})
    assert login.status_code == 200, login.text
    assert login.json()["user"]["id"] == body["user"]["id"]


async def test_register_without_a_password_answers_422_on_the_password_field(client):
    response = await client.post("/auth/register", json={"email": "user@site.com"})

    body = assert_problem(response, 422, "validation_failed")
    assert [e["field"] for e in body["errors"]] == ["password"]


async def test_register_without_an_email_answers_422_on_the_email_field(client):
    response = await client.post("/auth/register", json={"password": PASSWORD})

    body = assert_problem(response, 422, "validation_failed")
    assert [e["field"] for e in body["errors"]] == ["email"]


async def test_a_refused_register_creates_no_account(client):
    await client.post("/auth/register", json={"email": "user@site.com", "password": "short"})

    response = await client.post(
        "/auth/login", json={"email": "user@site.com", "password": "short"}
    )

    assert_problem(response, 401, "invalid_credentials")
