"""Behind a trusted proxy the client IP comes from X-Forwarded-For, so the per-account
limit binds the attacker's address and never locks the owner out from elsewhere."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.e2e.conftest import Server, running_server


@pytest.fixture(scope="module")
def proxied(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    with running_server(
        tmp_path_factory.mktemp("proxied"), AUTH_TRUSTED_PROXIES="127.0.0.1", AUTH_LOGIN_LIMIT="2"
    ) as server:
        yield server


def login(server: Server, password: str, forwarded_for: str) -> httpx.Response:
    return httpx.post(
        f"{server.url}/auth/login",
        json={"email": "owner@site.com", "password": password},
        headers={"X-Forwarded-For": forwarded_for},
    )


def test_a_locked_account_still_logs_in_from_another_ip(proxied: Server) -> None:
    registered = httpx.post(
        f"{proxied.url}/auth/register", json={"email": "owner@site.com", "password": "owner-pass"}
    )
    assert registered.status_code == 201
    attacker = "198.51.100.9"
    assert [login(proxied, "guess-one", attacker).status_code for _ in range(2)] == [401, 401]
    blocked = login(proxied, "owner-pass", attacker)
    assert blocked.status_code == 429
    assert int(blocked.headers["retry-after"]) >= 1
    assert login(proxied, "owner-pass", "203.0.113.5").status_code == 200


def test_a_forwarded_for_header_from_an_untrusted_peer_is_ignored(
    server: Server, tmp_path: Path
) -> None:
    httpx.post(
        f"{server.url}/auth/register", json={"email": "ip@site.com", "password": "ip-password"}
    )
    token = httpx.post(
        f"{server.url}/auth/login",
        json={"email": "ip@site.com", "password": "ip-password"},
        headers={"X-Forwarded-For": "198.51.100.9"},
    ).json()["access_token"]
    sessions = httpx.get(
        f"{server.url}/auth/sessions", headers={"Authorization": f"Bearer {token}"}
    ).json()["sessions"]
    assert {s["ip_address"] for s in sessions} == {"127.0.0.1"}


def test_a_forged_line_before_the_proxys_own_is_not_the_client(proxied: Server) -> None:
    """A proxy that adds its own X-Forwarded-For line (HAProxy's ``option forwardfor``)
    leaves the client's forged line first: the lines are one list (RFC 9110 §5.3), and the
    client is its nearest untrusted hop, whatever the forged line says."""
    body = {"email": "spoof@site.com", "password": "spoof-pass"}
    assert httpx.post(f"{proxied.url}/auth/register", json=body).status_code == 201

    def through_the_proxy(password: str, forged: str) -> httpx.Response:
        lines = [("X-Forwarded-For", forged), ("X-Forwarded-For", "198.51.100.77")]
        return httpx.post(
            f"{proxied.url}/auth/login", json={**body, "password": password}, headers=lines
        )

    guesses = [through_the_proxy("guess", f"203.0.113.{n}").status_code for n in range(2)]
    refused = through_the_proxy("spoof-pass", "203.0.113.99")

    assert guesses == [401, 401]
    assert refused.status_code == 429
