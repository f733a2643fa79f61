"""/schema/openapi.json documents every request body with its constraints and every
operation's problem responses, straight from the handler signatures."""

from __future__ import annotations

from typing import Any

import pytest

BODY_ROUTES = ["/auth/register", "/auth/login", "/auth/refresh", "/auth/logout", "/auth/revoke"]
PROBLEM_JSON = "application/problem+json"


@pytest.fixture
async def document(client) -> dict[str, Any]:
    response = await client.get("/schema/openapi.json")
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def body_schema(document: dict[str, Any], path: str, media: str = "application/json") -> Any:
    schema = document["paths"][path]["post"]["requestBody"]["content"][media]["schema"]
    reference = schema["allOf"][0]["$ref"] if "allOf" in schema else schema["$ref"]
    return document["components"]["schemas"][reference.rsplit("/", 1)[-1]]


async def test_the_register_body_states_the_password_email_and_name_rules(document):
    schema = body_schema(document, "/auth/register")
    fields = schema["properties"]

    assert sorted(schema["required"]) == ["email", "password"]
    assert (fields["password"]["minLength"], fields["password"]["maxLength"]) == (8, 1024)
    assert fields["email"]["format"] == "email"
    assert fields["email"]["maxLength"] == 254
    assert fields["name"]["maxLength"] == 200
    # Only lengths the service refuses as invalid input are stated (schemathesis holds us to it).
    assert "maxLength" not in fields["turnstile_token"]


async def test_login_documents_a_json_and_a_form_body(document):
    content = document["paths"]["/auth/login"]["post"]["requestBody"]["content"]

    assert set(content) == {"application/json", "application/x-www-form-urlencoded"}
    form = body_schema(document, "/auth/login", "application/x-www-form-urlencoded")
    assert {"username", "email", "password"} <= set(form["properties"])


@pytest.mark.parametrize("path", ["/auth/refresh", "/auth/logout", "/auth/revoke"])
async def test_optional_bodies_are_documented_as_optional(document, path):
    assert document["paths"][path]["post"]["requestBody"]["required"] is False


@pytest.mark.parametrize("path", BODY_ROUTES)
async def test_body_routes_document_their_body_problems(document, path):
    responses = document["paths"][path]["post"]["responses"]

    assert {"400", "413", "415", "422"} <= set(responses)
    assert "malformed_json" in responses["400"]["description"]


async def test_every_error_response_is_a_problem_with_a_code(document):
    problem = document["components"]["schemas"]["Problem"]
    assert {"type", "title", "status", "detail", "code", "errors"} <= set(problem["properties"])
    found = 0
    for path, operations in document["paths"].items():
        for method, operation in operations.items():
            for status, response in operation["responses"].items():
                if int(status) < 400 or path == "/health/ready":
                    continue
                found += 1
                assert list(response["content"]) == [PROBLEM_JSON], (path, method, status)
                schema = response["content"][PROBLEM_JSON]["schema"]["$ref"]
                # Login's 401 (and a provider's callback's, and an email code's) may be
                # mfa_required, a problem with two members more.
                mfa = {"/auth/login", "/auth/{provider}/callback", "/auth/email/signin"}
                expected = "/MfaProblem" if path in mfa and status == "401" else "/Problem"
                assert schema.endswith(expected), (path, method, status)
                assert "`" in response["description"], (path, method, status)

    assert found > 30


async def test_mfa_required_is_documented_as_a_problem_with_its_token_and_methods(document):
    login_401 = document["paths"]["/auth/login"]["post"]["responses"]["401"]
    assert "`mfa_required`" in login_401["description"]
    mfa_problem = document["components"]["schemas"]["MfaProblem"]
    assert {"code", "detail", "mfa_token", "methods"} <= set(mfa_problem["properties"])


async def test_the_cookie_routes_document_foreign_origins_and_the_refresh_cookie(document):
    for path in ["/auth/register", "/auth/login", "/auth/refresh", "/auth/logout"]:
        assert (
            "origin_not_allowed"
            in document["paths"][path]["post"]["responses"]["403"]["description"]
        )
    parameters = document["paths"]["/auth/refresh"]["post"]["parameters"]
    assert {"name": "refresh_id", "in": "cookie"}.items() <= next(
        p for p in parameters if p["in"] == "cookie"
    ).items()
