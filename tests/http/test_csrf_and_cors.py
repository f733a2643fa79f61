"""Cookie-authenticated endpoints refuse foreign origins; CORS with credentials only for
AUTH_ALLOWED_ORIGINS (OWASP CSRF Prevention Cheat Sheet)."""

from __future__ import annotations

from typing import Any

import pytest

from interfaces.http.app import create_app
from interfaces.http.origin import same_origin
from tests.http.helpers import assert_problem, register

APP = "https://app.example"


@pytest.mark.parametrize("path", ["/auth/refresh", "/auth/logout"])
async def test_a_foreign_origin_is_refused_on_cookie_endpoints(client: Any, path: str) -> None:
    await register(client)
    response = await client.post(path, headers={"Origin": "https://evil.example"})
    assert_problem(response, 403, "origin_not_allowed")
    assert "set-cookie" not in response.headers


@pytest.mark.parametrize("path", ["/auth/refresh", "/auth/logout"])
async def test_cookie_endpoints_are_post_only(client: Any, path: str) -> None:
    assert_problem(await client.get(path), 405, "method_not_allowed")


async def test_an_allowed_origin_gets_credentialed_cors(make_client: Any) -> None:
    async with make_client(allowed_origins=(APP,)) as client:
        await register(client)
        preflight = await client.options(
            "/auth/refresh",
            headers={"Origin": APP, "Access-Control-Request-Method": "POST"},
        )
        assert preflight.status_code in (200, 204)
        assert preflight.headers["access-control-allow-origin"] == APP
        assert preflight.headers["access-control-allow-credentials"] == "true"
        refreshed = await client.post("/auth/refresh", headers={"Origin": APP})
        assert refreshed.status_code == 200
        assert refreshed.headers["access-control-allow-origin"] == APP


async def test_other_origins_get_no_cors_headers(make_client: Any) -> None:
    async with make_client(allowed_origins=(APP,)) as client:
        response = await client.get("/health/live", headers={"Origin": "https://evil.example"})
        assert "access-control-allow-origin" not in response.headers


async def test_without_allowed_origins_there_is_no_cors_at_all(client: Any) -> None:
    response = await client.get("/health/live", headers={"Origin": APP})
    assert "access-control-allow-origin" not in response.headers


def test_every_endpoint_that_reads_the_refresh_cookie_refuses_a_foreign_origin(
    settings: Any,
) -> None:
    """API.md, CSRF: a cross-site POST that carries the cookie is refused wherever the cookie
    is read. Checked on the app's own routes, so a new endpoint cannot forget it."""
    readers = {
        (handler.handler_name, route.path): same_origin in handler.resolve_guards()
        for route in create_app(settings).routes
        for handler in getattr(route, "route_handlers", ())
        if "refresh_cookie" in handler.parsed_fn_signature.parameters
    }

    assert ("verify", "/auth/email/verify") in readers
    assert [reader for reader, guarded in readers.items() if not guarded] == []


async def test_email_verification_refuses_a_foreign_origin(client: Any) -> None:
    response = await client.post(
        "/auth/email/verify", json={"token": "x" * 43}, headers={"Origin": "https://evil.example"}
    )
    assert_problem(response, 403, "origin_not_allowed")
