"""Small verbs the HTTP tests share, so each test reads like the spec."""

from __future__ import annotations

import asyncio
import base64
import json
import re
from dataclasses import dataclass
from datetime import UTC, datetime
from http import HTTPStatus
from typing import Any

import httpx

from infrastructure.config import Settings
from interfaces.bootstrap.backends import open_database

PASSWORD = "secret123"


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


async def register(
    client: httpx.AsyncClient,
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
    client: httpx.AsyncClient, email: str = "user@site.com", password: str = PASSWORD
) -> dict[str, Any]:
    response = await client.post("/auth/login", json={"email": email, "password": password})
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def refresh_cookie(client: httpx.AsyncClient) -> str | None:
    return client.cookies.get("refresh_id")


def assert_problem(response: Any, status: int, code: str) -> dict[str, Any]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    body: dict[str, Any] = response.json()
    assert body["status"] == status
    assert body["code"] == code
    assert body["type"] == "about:blank"
    assert body["title"] == HTTPStatus(status).phrase
    assert body["detail"]
    return body


# --- Cookies, devices and token inspection -------------------------------------------------

BASE_URL = "https://testserver.local"
COOKIE = "refresh_id"
ACCESS_TTL = 900
REFRESH_TTL = 604800
ISO_SECOND = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$")
USER_KEYS = {"id", "email", "name", "role", "is_admin", "created_at", "email_verified"}
BODY_TRANSPORT = {"X-Auth-Transport": "body"}


@dataclass(frozen=True)
class SetCookie:
    """One ``Set-Cookie`` header: name, value and attributes (names lower-cased)."""

    name: str
    value: str
    attributes: dict[str, str | None]
    raw: str


def set_cookies(response: Any) -> list[SetCookie]:
    cookies = []
    for raw in response.headers.get_list("set-cookie"):
        first, *rest = (part.strip() for part in raw.split(";"))
        name, _, value = first.partition("=")
        attributes: dict[str, str | None] = {}
        for part in rest:
            if not part:
                continue
            key, eq, val = part.partition("=")
            attributes[key.strip().lower()] = val.strip() if eq else None
        cookies.append(SetCookie(name.strip(), value.strip().strip('"'), attributes, raw))
    return cookies


def the_refresh_cookie(response: Any) -> SetCookie:
    """The one ``refresh_id`` cookie the response sets (exactly one, or the test fails)."""
    found = [c for c in set_cookies(response) if c.name == COOKIE]
    assert len(found) == 1, response.headers.get_list("set-cookie")
    return found[0]


def no_refresh_cookie(response: Any) -> bool:
    return not [c for c in set_cookies(response) if c.name == COOKIE]


def cookie_header(refresh_token: str) -> dict[str, str]:
    """Send exactly this refresh cookie (an explicit header beats the client's jar)."""
    return {"Cookie": f"{COOKIE}={refresh_token}"}


@dataclass(frozen=True)
class Device:
    """One signed-in browser: its access token and its refresh cookie."""

    access_token: str
    refresh_token: str
    body: dict[str, Any]

    @property
    def headers(self) -> dict[str, str]:
        return bearer(self.access_token)

    @property
    def cookie(self) -> dict[str, str]:
        return cookie_header(self.refresh_token)


@dataclass
class ThisTest:
    """The backends of the test running now (set by the ``settings`` fixture)."""

    settings: Settings | None = None


THIS_TEST = ThisTest()


async def verify_address(email: str) -> None:
    """The address counts as verified, as if its mail had been opened, and nothing else
    happens (no session ends): for tests about what a verified account may do."""
    assert THIS_TEST.settings is not None
    database = open_database(THIS_TEST.settings)
    try:
        async with database.transaction(write=True) as tx:
            await tx.execute(
                "UPDATE users SET email_verified_at = $1 WHERE email = $2",
                datetime(2000, 1, 1, tzinfo=UTC),  # before any clock a test sets
                email,
            )
    finally:
        await database.close()


async def sign_up(
    client: httpx.AsyncClient,
    email: str = "user@site.com",
    password: str = PASSWORD,
    *,
    verified: bool = False,
    **extra: Any,
) -> Device:
    response = await client.post(
        "/auth/register", json={"email": email, "password": password, **extra}
    )
    assert response.status_code == 201, response.text
    body = response.json()
    if verified:
        await verify_address(email)
    return Device(body["access_token"], the_refresh_cookie(response).value, body)


async def sign_in(
    client: httpx.AsyncClient,
    email: str = "user@site.com",
    password: str = PASSWORD,
    headers: dict[str, str] | None = None,
) -> Device:
    response = await client.post(
        "/auth/login", json={"email": email, "password": password}, headers=headers
    )
    assert response.status_code == 200, response.text
    body = response.json()
    return Device(body["access_token"], the_refresh_cookie(response).value, body)


async def refresh_with(client: httpx.AsyncClient, refresh_token: str) -> Any:
    return await client.post("/auth/refresh", headers=cookie_header(refresh_token))


def b64decode(segment: str) -> bytes:
    return base64.urlsafe_b64decode(segment + "=" * (-len(segment) % 4))


def b64encode(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def jwt_parts(token: str) -> tuple[dict[str, Any], dict[str, Any]]:
    """Header and claims of a compact JWT, read without verifying anything."""
    header, payload, _ = token.split(".")
    return json.loads(b64decode(header)), json.loads(b64decode(payload))


def assert_user(user: dict[str, Any], email: str, name: str | None = None) -> None:
    assert set(user) == USER_KEYS
    assert isinstance(user["id"], int)
    assert not isinstance(user["id"], bool)
    assert user["email"] == email
    assert user["name"] == name
    assert user["role"] == "user"
    assert user["is_admin"] is False
    assert ISO_SECOND.match(user["created_at"]), user["created_at"]


def assert_token_body(body: dict[str, Any], *, user: bool, in_body: bool = False) -> None:
    keys = {"access_token", "token_type", "expires_in"}
    if user:
        keys.add("user")
    if in_body:
        keys |= {"refresh_token", "refresh_expires_in"}
    assert set(body) == keys, body
    assert body["token_type"] == "Bearer"
    assert body["expires_in"] == ACCESS_TTL
    assert isinstance(body["access_token"], str)
    assert body["access_token"].count(".") == 2


def assert_refresh_cookie(cookie: SetCookie) -> None:
    """``refresh_id=<opaque>; HttpOnly; Secure; SameSite=Lax; Path=/auth; Max-Age=604800``."""
    assert cookie.name == COOKIE
    # <session id>.<generation>.<256 random bits and a MAC>, base64url: URL-safe, opaque
    # to clients
    token = r"[A-Za-z0-9_-]+\.(0|[1-9][0-9]{0,8})\.[A-Za-z0-9_-]{64}"
    assert re.fullmatch(token, cookie.value), cookie.value
    assert "httponly" in cookie.attributes, cookie.raw
    assert "secure" in cookie.attributes, cookie.raw
    assert (cookie.attributes.get("samesite") or "").lower() == "lax", cookie.raw
    assert cookie.attributes.get("path") == "/auth", cookie.raw
    assert cookie.attributes.get("max-age") == str(REFRESH_TTL), cookie.raw


async def open_connections(client: httpx.AsyncClient, access_token: str, count: int) -> None:
    """Have the app open the backend connections ``count`` racing requests will hold, so
    they start together: on cold pools the first racer takes the one idle connection and may
    finish before the others have connected, and a race never happens."""
    await asyncio.gather(
        *(client.get("/auth/me", headers=bearer(access_token)) for _ in range(count))
    )


async def assert_access_rejected(client: httpx.AsyncClient, access_token: str) -> None:
    response = await client.get("/auth/me", headers=bearer(access_token))
    assert_problem(response, 401, "invalid_token")
    assert response.headers["www-authenticate"] == 'Bearer error="invalid_token"'


async def assert_access_works(client: httpx.AsyncClient, access_token: str) -> None:
    response = await client.get("/auth/me", headers=bearer(access_token))
    assert response.status_code == 200, response.text
