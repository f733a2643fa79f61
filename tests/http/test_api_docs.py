"""The API docs are complete and work offline: the docs UI loads nothing but what the service
serves itself, every operation that takes the access token says so as a bearer security
scheme, and the refresh cookie, the transport header and login's "email or username" are
in the schema."""

from __future__ import annotations

from html.parser import HTMLParser
from typing import Any
from urllib.parse import urlsplit

import pytest

from tests.http.helpers import assert_problem

SIGNED_IN_OPERATIONS = [
    ("get", "/auth/me"),
    ("post", "/auth/revoke"),
    ("get", "/auth/sessions"),
    ("delete", "/auth/sessions/{session_id}"),
    ("post", "/auth/email/verify/request"),
    ("post", "/auth/email/change/request"),
    ("post", "/auth/password/change"),
    ("post", "/auth/password/set"),
    ("get", "/admin/users"),
    ("delete", "/admin/users/{user_id}"),
    ("get", "/admin/webhooks"),
    ("post", "/admin/webhooks"),
]


class AssetLinks(HTMLParser):
    """Every URL the page makes the browser load: script sources and linked resources."""

    def __init__(self) -> None:
        super().__init__()
        self.urls: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        found = dict(attrs)
        url = found.get("src") if tag == "script" else found.get("href") if tag == "link" else None
        if url is not None:
            self.urls.append(url)


@pytest.fixture
async def document(client) -> dict[str, Any]:
    response = await client.get("/schema/openapi.json")
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


@pytest.mark.parametrize("page", ["/schema", "/schema/swagger"])
async def test_the_docs_page_loads_only_assets_the_service_serves_itself(client, page):
    response = await client.get(page)
    assert response.status_code == 200, response.text
    links = AssetLinks()
    links.feed(response.text)

    assert len(links.urls) >= 4, links.urls  # stylesheet, icon, bundle, preset
    for url in links.urls:
        parts = urlsplit(url)
        assert not parts.scheme, f"{url} leaves the service"
        assert not parts.netloc, f"{url} leaves the service"
        assert parts.path.startswith("/schema/assets/"), url
        asset = await client.get(url)
        assert asset.status_code == 200, url
        assert len(asset.content) > 500, url


async def test_the_docs_page_renders_the_openapi_3_1_document_with_swagger_ui_5(client):
    page = (await client.get("/schema")).text
    bundle = await client.get("/schema/assets/swagger-ui-bundle.js")

    assert "SwaggerUIBundle(" in page
    assert '"openapi":"3.1' in page.replace(" ", "")
    assert bundle.headers["content-type"].startswith(("text/javascript", "application/javascript"))
    assert b"5.32.0" in bundle.content


async def test_a_missing_asset_is_a_404(client):
    assert (await client.get("/schema/assets/nope.js")).status_code == 404


@pytest.mark.parametrize("path", ["/schema/redoc", "/schema/nope", "/schema/openapi.yaml"])
async def test_an_unknown_path_under_the_docs_is_a_404_problem_as_anywhere(client, path):
    assert_problem(await client.get(path), 404, "not_found")


async def test_the_bearer_scheme_is_declared_once_as_a_jwt_beside_introspections_basic(
    document,
):
    schemes = document["components"]["securitySchemes"]

    assert schemes == {
        "bearer": {
            "type": "http",
            "scheme": "bearer",
            "bearerFormat": "JWT",
            "description": schemes["bearer"]["description"],
        },
        "introspection_client": {
            "type": "http",
            "scheme": "basic",
            "description": schemes["introspection_client"]["description"],
        },
        "signal_receiver": {
            "type": "http",
            "scheme": "bearer",
            "description": schemes["signal_receiver"]["description"],
        },
    }


@pytest.mark.parametrize(("method", "path"), SIGNED_IN_OPERATIONS)
async def test_every_operation_behind_the_access_token_requires_the_bearer_scheme(
    document, method, path
):
    operation = document["paths"][path][method]

    assert operation["security"] == [{"bearer": []}]
    assert "401" in operation["responses"]
    assert "authorization" not in [p["name"].lower() for p in operation.get("parameters", [])]


async def test_logout_takes_the_bearer_token_optionally(document):
    assert document["paths"]["/auth/logout"]["post"]["security"] == [{"bearer": []}, {}]


async def test_operations_without_the_access_token_declare_no_security(document):
    for path in ["/auth/register", "/auth/login", "/auth/refresh", "/health/ready"]:
        for operation in document["paths"][path].values():
            assert "security" not in operation, path


@pytest.mark.parametrize("path", ["/auth/logout", "/auth/revoke", "/auth/sessions/{session_id}"])
async def test_a_204_declares_no_body(document, path):
    method = "delete" if "{" in path else "post"
    response = document["paths"][path][method]["responses"]["204"]

    assert "content" not in response


@pytest.mark.parametrize("path", ["/auth/refresh", "/auth/logout"])
async def test_the_refresh_cookie_is_documented_under_its_configured_name(document, path):
    cookies = [p for p in document["paths"][path]["post"]["parameters"] if p["in"] == "cookie"]

    assert [c["name"] for c in cookies] == ["refresh_id"]
    assert "refresh_token" in cookies[0]["description"]


async def test_a_renamed_refresh_cookie_is_documented_under_the_new_name(make_client):
    async with make_client(cookie_name="sid_r") as other:
        document = (await other.get("/schema/openapi.json")).json()
    parameters = document["paths"]["/auth/refresh"]["post"]["parameters"]

    assert [p["name"] for p in parameters if p["in"] == "cookie"] == ["sid_r"]


@pytest.mark.parametrize("path", ["/auth/register", "/auth/login", "/auth/refresh"])
async def test_the_transport_header_is_documented(document, path):
    parameters = document["paths"][path]["post"]["parameters"]
    header = next(p for p in parameters if p["name"] == "x-auth-transport")

    assert header["in"] == "header"
    assert "`body`" in header["description"]


async def test_login_requires_an_email_or_a_username_in_the_schema(document):
    content = document["paths"]["/auth/login"]["post"]["requestBody"]["content"]

    for media in ["application/json", "application/x-www-form-urlencoded"]:
        alternatives = content[media]["schema"]["anyOf"]
        assert [a["required"] for a in alternatives] == [["email"], ["username"]]
        assert all(
            field == {"type": "string"} for a in alternatives for field in a["properties"].values()
        )


@pytest.mark.parametrize("path", ["/schema", "/schema/swagger", "/schema/openapi.json"])
async def test_the_docs_may_not_be_framed_sniffed_or_leak_a_referrer(client: Any, path: str):
    response = await client.get(path)

    assert response.status_code == 200
    assert "frame-ancestors 'none'" in response.headers["content-security-policy"]
    assert response.headers["x-content-type-options"] == "nosniff"
    assert response.headers["referrer-policy"] == "no-referrer"
