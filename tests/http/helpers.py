"""Small verbs the HTTP tests share, so each test reads like the spec."""

from __future__ import annotations

from typing import Any

from litestar.testing import AsyncTestClient

PASSWORD = "secret123"


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


async def register(
    client: AsyncTestClient[Any],
    email: str = "user@site.com",
    password: str = PASSWORD,
    **extra: Any,
) -> dict[str, Any]:
    response = await client.post(
        "/auth/register", json={"email": email, "password": password, **extra}
    )
    assert response.status_code == 201, response.text
    body: dict[str, Any] = response.json()
    return body


async def login(
    client: AsyncTestClient[Any], email: str = "user@site.com", password: str = PASSWORD
) -> dict[str, Any]:
    response = await client.post("/auth/login", json={"email": email, "password": password})
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def refresh_cookie(client: AsyncTestClient[Any]) -> str | None:
    return client.cookies.get("refresh_id")


def assert_problem(response: Any, status: int, code: str) -> dict[str, Any]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    body: dict[str, Any] = response.json()
    assert body["status"] == status
    assert body["code"] == code
    assert body["title"] and body["detail"]
    return body
