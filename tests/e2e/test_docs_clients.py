"""The documentation's Python snippets (the client, the resource server), run as they stand
against a real server, so that they stay true."""

from __future__ import annotations

import re
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from authgate_client.resource import InvalidToken
from tests.e2e.clients import client_server
from tests.e2e.conftest import Server

DOCS = Path(__file__).resolve().parents[2] / "docs"
SECRET = "orders-secret-0123456789abcdefghijkl"
SIGNALS_TOKEN = "orders-bearer-0123456789abcdefghijklmn"
REAUTH_MAX_AGE = 1  # the server's step-up max age: the step-up snippet's hook is asked after it


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    with client_server(
        tmp_path_factory.mktemp("readme-clients"),
        AUTH_INTROSPECTION_CLIENTS=f"orders:{SECRET}",
        AUTH_REAUTH_MAX_AGE=str(REAUTH_MAX_AGE),
        AUTH_SSF_RECEIVERS=f"orders:{SIGNALS_TOKEN}",
    ) as started:
        yield started


def snippets(page: str) -> list[str]:
    return re.findall(r"```python\n(.*?)```", (DOCS / page).read_text(), re.S)


def run(snippet: str, server: Server, page: str) -> dict[str, Any]:
    """The snippet as it stands, pointed at this test's server instead of port 8000."""
    code = snippet.replace("http://127.0.0.1:8000", server.url)
    assert code != snippet, "the snippet no longer names the service's address"
    scope: dict[str, Any] = {"__name__": "readme"}
    exec(compile(code, str(DOCS / page), "exec"), scope)
    return scope


def signed_up(server: Server, email: str, password: str) -> dict[str, Any]:
    answer = httpx.post(
        f"{server.url}/auth/register",
        json={"email": email, "password": password},
        headers={"X-Auth-Transport": "body"},
    )
    assert answer.status_code == 201, answer.text
    body: dict[str, Any] = answer.json()
    return body


def test_the_python_client_page_snippet_signs_in_calls_and_signs_out(
    server, monkeypatch, tmp_path, capsys
):
    monkeypatch.setenv("HOME", str(tmp_path))
    signed_up(server, "user@site.com", "secret123")
    snippet, _ = snippets("clients/python.md")

    scope = run(snippet, server, "clients/python.md")

    assert capsys.readouterr().out == "user@site.com\n"
    assert not scope["auth"].signed_in
    assert not (tmp_path / ".myapp" / "refresh-token").exists()  # logged out: forgotten
    assert (tmp_path / ".myapp").stat().st_mode & 0o777 == 0o700


def test_the_resource_server_snippets_verify_offline_and_introspect(server, monkeypatch):
    monkeypatch.setenv("ORDERS_INTROSPECTION_SECRET", SECRET)
    offline, _, online = snippets("concepts/tokens.md")
    session = signed_up(server, "reader@site.com", "secret123")
    token = session["access_token"]

    user_id = run(offline, server, "concepts/tokens.md")["user_id"]
    is_active = run(online, server, "concepts/tokens.md")["is_active"]

    assert user_id(f"Bearer {token}") == str(session["user"]["id"])
    with pytest.raises(InvalidToken):
        user_id(f"Basic {token}")
    with pytest.raises(InvalidToken):
        user_id(f"Bearer {session['refresh_token']}")
    assert is_active(token) is True
    httpx.post(f"{server.url}/auth/logout", json={"refresh_token": session["refresh_token"]})
    assert is_active(token) is False
    assert user_id(f"Bearer {token}")  # offline verification cannot see the logout


def test_the_python_client_page_step_up_hook_asks_and_the_change_goes_through(server, monkeypatch):
    signed_up(server, "stepper@site.com", "secret123")
    monkeypatch.setattr("getpass.getpass", lambda prompt: "secret123")
    _, step_up = snippets("clients/python.md")
    auth = run(step_up, server, "clients/python.md")["auth"]

    with httpx.Client(base_url=server.url, auth=auth) as client:
        auth.login(client, "stepper@site.com", "secret123")
        time.sleep(REAUTH_MAX_AGE + 1.5)
        change = {"current_password": "secret123", "new_password": "secret123"}
        answer = client.post("/auth/password/change", json=change)

    assert answer.status_code == 204, answer.text


def test_the_signals_snippet_refuses_a_logged_out_sessions_token_within_a_second(
    server, monkeypatch
):
    monkeypatch.setenv("AUTHGATE_SIGNALS_TOKEN", SIGNALS_TOKEN)
    _, with_signals, _ = snippets("concepts/tokens.md")
    session = signed_up(server, "signals@site.com", "secret123")
    verifier = run(
        with_signals,
        server,
        "concepts/tokens.md",
    )["verifier"]
    try:
        assert verifier.wait_for_signals(10)
        assert verifier.verify(session["access_token"]).subject == str(session["user"]["id"])
        httpx.post(f"{server.url}/auth/logout", json={"refresh_token": session["refresh_token"]})
        deadline = time.monotonic() + 1.0
        refused = False
        while not refused and time.monotonic() < deadline:
            try:
                verifier.verify(session["access_token"])
            except InvalidToken:
                refused = True
            time.sleep(0.01)
        assert refused, "still accepted a second after the logout"
    finally:
        verifier.close()
