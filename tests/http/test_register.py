"""POST /auth/register: 201 with the login body and the refresh cookie."""

from __future__ import annotations

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


async def test_register_sets_the_refresh_cookie_and_forbids_caching(client):
    response = await client.post(
        "/auth/register", json={"email": "user@site.com", "password": PASSWORD}
    )

    assert response.status_code == 201, response.text
    assert_refresh_cookie(the_refresh_cookie(response))
    assert response.headers["cache-control"] == "no-store"


async def test_register_normalises_the_email_to_lower_case(client):
    body = await register(client, email="Mixed.Case@Site.COM")

    assert body["user"]["email"] == "mixed.case@site.com"
    me = await client.get("/auth/me", headers=bearer(body["access_token"]))
    assert me.json()["user"]["email"] == "mixed.case@site.com"


async def test_register_without_a_name_gives_a_null_name(client):
    body = await register(client)

    assert_user(body["user"], "user@site.com", None)


async def test_register_with_a_taken_email_in_any_case_answers_409_email_taken(client):
    await register(client)
    client.cookies.clear()

    for email in ["user@site.com", "USER@Site.Com"]:
        response = await client.post(
            "/auth/register", json={"email": email, "password": "another-password"}
        )

        assert_problem(response, 409, "email_taken")
        assert "set-cookie" not in response.headers


async def test_register_with_an_invalid_email_answers_422_on_the_email_field(client):
    # The last: an RFC 2047 encoded-word, which would decode to a header of the sender's.
    encoded_word = "=?utf-8?q?a=0D=0Abcc=3A_x=40evil.com?=@example.com"
    for email in [
        "not-an-email",
        "user@",
        "@site.com",
        "user@site",
        "user site@site.com",
        "",
        encoded_word,
    ]:
        response = await client.post("/auth/register", json={"email": email, "password": PASSWORD})

        body = assert_problem(response, 422, "validation_failed")
        assert [e["field"] for e in body["errors"]] == ["email"], email
        assert all(e["message"] for e in body["errors"])


async def test_register_with_a_password_of_7_or_1025_characters_answers_422(client):
    for length in [0, 7, 1025]:
        response = await client.post(
            "/auth/register", json={"email": "user@site.com", "password": "p" * length}
        )

        body = assert_problem(response, 422, "validation_failed")
        assert [e["field"] for e in body["errors"]] == ["password"], length
        assert all(e["message"] for e in body["errors"])


async def test_register_with_both_fields_invalid_reports_both(client):
    response = await client.post("/auth/register", json={"email": "nope", "password": "short"})

    body = assert_problem(response, 422, "validation_failed")
    assert sorted(e["field"] for e in body["errors"]) == ["email", "password"]


async def test_register_accepts_passwords_of_8_and_1024_characters(client):
    for length in [8, 1024]:
        email, password = f"len{length}@site.com", "p" * length
        body = await register(client, email=email, password=password)

        login = await client.post("/auth/login", json={"email": email, "password": password})
        assert login.status_code == 200, login.text
        assert login.json()["user"]["id"] == body["user"]["id"]


async def test_register_without_email_or_password_answers_422_on_that_field(client):
    for body, field in [
        ({"email": "user@site.com"}, "password"),
        ({"password": PASSWORD}, "email"),
    ]:
        response = await client.post("/auth/register", json=body)

        problem = assert_problem(response, 422, "validation_failed")
        assert [e["field"] for e in problem["errors"]] == [field]


async def test_a_refused_register_creates_no_account(client):
    await client.post("/auth/register", json={"email": "user@site.com", "password": "short"})

    response = await client.post(
        "/auth/login", json={"email": "user@site.com", "password": "short"}
    )

    assert_problem(response, 401, "invalid_credentials")
