"""A real server for clients' tests (limits that let many sign-ins through, the shortest
access-token lifetime), and its signing keys changed under it with the real CLI."""

from __future__ import annotations

import json
import os
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx

from tests.e2e.conftest import BIN, Server, running_server

# The shortest lifetime the settings allow (AUTH_ACCESS_TTL is 60-86400 s).
ACCESS_TTL = 60


@contextmanager
def client_server(workdir: Path, **settings: str) -> Iterator[Server]:
    """One server for a module's tests: its limits are raised so that the tests' sign-ins
    and refreshes from one address are never refused (the limits have their own tests)."""
    limits: dict[str, Any] = {
        "AUTH_REGISTER_LIMIT": "100000",
        "AUTH_LOGIN_LIMIT": "100000",
        "AUTH_REFRESH_LIMIT": "100000",
    }
    with running_server(
        workdir, AUTH_ACCESS_TTL=str(ACCESS_TTL), **{**limits, **settings}
    ) as started:
        yield started


def authgate_cli(server: Server, *argv: str) -> str:
    """The real `authgate` command in the server's directory (its ./data/jwks.json)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("AUTH_")}
    done = subprocess.run(
        [BIN / "authgate", *argv],
        cwd=server.workdir,
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    return done.stdout


def pull_old_signing_keys(server: Server) -> None:
    """An operator's emergency: `authgate keys rotate`, then every older key is taken out of
    the file at once (as for a leaked key), so every access token signed so far dies."""
    authgate_cli(server, "keys", "rotate")
    path = server.workdir / "data" / "jwks.json"
    data = json.loads(path.read_text())
    data["keys"]["keys"] = data["keys"]["keys"][:1]
    temporary = path.with_name(".jwks.json.test")
    temporary.write_text(json.dumps(data))
    temporary.chmod(0o600)
    os.replace(temporary, path)


def wait_until_refused(server: Server, access_token: str) -> None:
    """The server re-reads its keys file within a second; wait until it has."""
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        answer = httpx.get(
            f"{server.url}/auth/me", headers={"Authorization": f"Bearer {access_token}"}
        )
        if answer.status_code == 401:
            return
        time.sleep(0.1)
    raise AssertionError("the server still accepts a token signed with a pulled key")
