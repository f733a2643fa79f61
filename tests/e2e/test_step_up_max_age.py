"""Step-up end to end, on the wall clock: a real server with a short AUTH_REAUTH_MAX_AGE
refuses a sensitive action once the sign-in is that old, and takes it again right after
``POST /auth/reauthenticate`` (API.md, "Assurance and step-up")."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.e2e.conftest import Server, running_server

MAX_AGE = 2
PASSWORD = "a long enough password"


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    with running_server(
        Path(tmp_path_factory.mktemp("step-up")), AUTH_REAUTH_MAX_AGE=str(MAX_AGE)
    ) as running:
        yield running


def test_a_sign_in_older_than_the_max_age_must_be_proven_again(server: Server) -> None:
    with httpx.Client(base_url=server.url) as http:
        signed_up = http.post(
            "/auth/register", json={"email": "ada@site.com", "password": PASSWORD}
        )
        assert signed_up.status_code == 201, signed_up.text
        bearer = {"Authorization": f"Bearer {signed_up.json()['access_token']}"}
        change = {"current_password": PASSWORD, "new_password": PASSWORD + "!"}

        time.sleep(MAX_AGE + 1.5)
        refused = http.post("/auth/password/change", json=change, headers=bearer)
        assert refused.status_code == 401, refused.text
        assert refused.json()["code"] == "insufficient_user_authentication"
        assert f"max_age={MAX_AGE}" in refused.headers["www-authenticate"]

        proven = http.post("/auth/reauthenticate", json={"password": PASSWORD}, headers=bearer)
        assert proven.status_code == 200, proven.text
        fresh = {"Authorization": f"Bearer {proven.json()['access_token']}"}
        changed = http.post("/auth/password/change", json=change, headers=fresh)
        assert changed.status_code == 204, changed.text
