"""The authgates these tests run against, named in the environment (see support.py).
Without them the tests skip, or fail under ``AUTH_TEST_REQUIRE_BACKENDS=1``."""

from __future__ import annotations

import base64
import json
import os
from pathlib import Path

import httpx
import pytest

from support import ACCESS_TTL, PASSWORD, Server, new_email


def _path(variable: str) -> Path | None:
    value = os.environ.get(variable)
    return Path(value) if value else None


def _named(variable: str) -> str:
    url = os.environ.get(variable)
    if not url:
        reason = f"{variable} names no authgate to test against"
        if os.environ.get("AUTH_TEST_REQUIRE_BACKENDS") == "1":
            pytest.fail(reason)
        pytest.skip(reason)
    return url.rstrip("/")


def _started(url: str) -> Server:
    """The server at ``url``, checked to issue the access tokens the tests expect."""
    client_id, _, secret = os.environ.get("AUTHGATE_TEST_INTROSPECTION", "").partition(":")
    token = httpx.post(
        f"{url}/auth/register",
        json={"email": new_email(), "password": PASSWORD},
        headers={"X-Auth-Transport": "body"},
    ).json()["access_token"]
    payload = token.split(".")[1]
    claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    assert claims["exp"] - claims["iat"] == ACCESS_TTL, "the server needs AUTH_ACCESS_TTL=60"
    return Server(
        url=url,
        port=httpx.URL(url).port or 80,
        cli=_path("AUTHGATE_TEST_CLI"),
        workdir=_path("AUTHGATE_TEST_WORKDIR"),
        introspection=(client_id, secret) if secret else None,
    )


@pytest.fixture(scope="session")
def server() -> Server:
    return _started(_named("AUTHGATE_TEST_URL"))


@pytest.fixture(scope="session")
def limited_server() -> Server:
    """One refresh per minute from an address: the second is refused with 429."""
    return _started(_named("AUTHGATE_TEST_LIMITED_URL"))
