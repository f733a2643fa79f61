"""What the client's tests share: the authgate they run against (started by whoever runs
them, named in the environment), its signing keys changed under it with its own CLI, a clock
the test moves, and a record of what a client sent.

- ``AUTHGATE_TEST_URL``: the server, running with ``AUTH_ACCESS_TTL=60``, limits high enough
  for many sign-ins from one address, and ``AUTH_INTROSPECTION_CLIENTS`` naming
  ``AUTHGATE_TEST_INTROSPECTION`` (``client_id:secret``);
- ``AUTHGATE_TEST_LIMITED_URL``: another one like it, but with ``AUTH_REFRESH_LIMIT=1``;
- ``AUTHGATE_TEST_CLI`` and ``AUTHGATE_TEST_WORKDIR``: its ``authgate`` command and the
  directory it serves from (``./data/jwks.json``), for the key-rotation tests.

The service itself is never imported: these tests run where only this package is installed.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import threading
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import httpx

PASSWORD = "correct horse battery"
# The shortest lifetime the service allows; conftest checks the server uses it.
ACCESS_TTL = 60
# The server's AUTH_REAUTH_MAX_AGE (step-up): short, so the tests wait it out.
REAUTH_MAX_AGE = int(os.environ.get("AUTHGATE_TEST_REAUTH_MAX_AGE", "2"))


@dataclass(frozen=True)
class Server:
    url: str
    port: int
    cli: Path | None
    workdir: Path | None
    introspection: tuple[str, str] | None


def new_email() -> str:
    return f"{uuid.uuid4().hex[:12]}@example.com"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class Ticks:
    """A monotonic clock the test moves: the client's idea of how old its token is."""

    now: float = 1000.0

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


@dataclass
class Sent:
    """Every answer a client got, as (method, path, status), refreshes included."""

    calls: list[tuple[str, str, int]] = field(default_factory=list)
    devices: list[str | None] = field(default_factory=list)  # the X-Device-Id each sent

    def record(self, response: httpx.Response) -> None:
        request = response.request
        self.calls.append((request.method, request.url.path, response.status_code))
        self.devices.append(request.headers.get("x-device-id"))

    async def arecord(self, response: httpx.Response) -> None:
        self.record(response)

    @property
    def refreshes(self) -> list[int]:
        return [status for _, path, status in self.calls if path == "/auth/refresh"]

    def to(self, path: str) -> list[int]:
        return [status for _, called, status in self.calls if called == path]


def authgate_cli(server: Server, *argv: str) -> str:
    """The server's own `authgate` command in its directory (its ./data/jwks.json)."""
    assert server.cli, "needs AUTHGATE_TEST_CLI"
    assert server.workdir, "needs AUTHGATE_TEST_WORKDIR"
    env = {k: v for k, v in os.environ.items() if not k.startswith("AUTH_")}
    done = subprocess.run(
        [server.cli, *argv],
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
    assert server.workdir
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


@dataclass
class Host:
    """Another web server on loopback (another origin): what each request brought. It
    answers 200, or ``status`` with ``headers`` and ``body`` when told."""

    url: str
    authorizations: list[str | None] = field(default_factory=list)
    status: int = 200
    headers: dict[str, str] = field(default_factory=dict)
    body: bytes = b""


@contextmanager
def another_host() -> Iterator[Host]:
    host = Host(url="")

    class Recording(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            host.authorizations.append(self.headers.get("Authorization"))
            self.send_response(host.status)
            for name, value in host.headers.items():
                self.send_header(name, value)
            self.send_header("Content-Length", str(len(host.body)))
            self.end_headers()
            self.wfile.write(host.body)

        def log_message(self, format: str, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Recording)
    host.url = f"http://127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield host
    finally:
        server.shutdown()
        server.server_close()


@contextmanager
def an_api_redirecting_to_a_challenge() -> Iterator[tuple[Host, Host]]:
    """Your API (an open redirect on it) and the third party it sends the client to, which
    answers 401 asking for a fresh proof."""
    with another_host() as api_host, another_host() as third_party:
        api_host.status, api_host.headers = 302, {"Location": f"{third_party.url}/x"}
        third_party.status = 401
        third_party.headers = {"Content-Type": "application/problem+json"}
        third_party.body = b'{"code": "insufficient_user_authentication", "max_age": 300}'
        yield api_host, third_party
