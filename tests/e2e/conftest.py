"""A real authgate process on loopback, served by granian exactly as `just serve` does."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO

import httpx
import pytest

BIN = Path(sys.executable).parent


@dataclass(frozen=True)
class Server:
    url: str
    port: int
    workdir: Path
    # The server's process, leader of a process group of its own that holds its workers:
    # ``os.killpg(pid, SIGKILL)`` ends them all at once, as a crash of the host would.
    pid: int
    # What the server wrote so far, line by line (read all along, so no pipe ever fills).
    stdout: list[str] = field(default_factory=list)
    stderr: list[str] = field(default_factory=list)


def _drain(stream: IO[bytes] | None, lines: list[str]) -> threading.Thread:
    def read() -> None:
        for raw in iter(stream.readline, b"") if stream else ():
            lines.append(raw.decode(errors="replace").rstrip("\n"))

    thread = threading.Thread(target=read, daemon=True)
    thread.start()
    return thread


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    with running_server(tmp_path_factory.mktemp("server")) as started:
        yield started


@contextmanager
def running_server(
    workdir: Path,
    *,
    workers: int = 1,
    port: int | None = None,
    environment: dict[str, str] | None = None,
    serve: bool = False,
    **settings: str,
) -> Iterator[Server]:
    """`authgate migrate`, then granian serving the app; AUTH_* settings as given, other
    variables (``environment``) added to the process's environment. ``port``: when settings
    must name the server's URL before it starts (e.g. a provider's redirect URI).
    ``serve``: `authgate serve` instead, as an operator starts it (it migrates first)."""
    port = port or free_port()
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith("AUTH_")},
        "AUTH_PORT": str(port),
        "AUTH_ISSUER": f"http://127.0.0.1:{port}",
        **(environment or {}),
        **settings,
    }
    command: list[str | Path] = [BIN / "authgate", "serve"]
    if serve:
        env["AUTH_WORKERS"] = str(workers)
    else:
        subprocess.run(
            [BIN / "authgate", "migrate"], cwd=workdir, env=env, check=True, capture_output=True
        )
        command = [
            BIN / "granian",
            "--interface",
            "asgi",
            "--factory",
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--workers",
            str(workers),
            "interfaces.http.asgi:app_from_environment",
        ]
    process = subprocess.Popen(
        command,
        cwd=workdir,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        start_new_session=True,
    )
    url = f"http://127.0.0.1:{port}"
    started = Server(url=url, port=port, workdir=workdir, pid=process.pid)
    readers = [_drain(process.stdout, started.stdout), _drain(process.stderr, started.stderr)]
    try:
        # Generous: on a loaded machine (two cores, the suite beside other work) several
        # servers starting at once each import the whole app twice (CLI, then the worker).
        deadline = time.monotonic() + 90
        while True:
            try:
                if httpx.get(f"{url}/health/live", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            if process.poll() is not None or time.monotonic() > deadline:
                output = "\n".join(started.stdout + started.stderr)
                pytest.fail(f"the server did not start:\n{output}")
            time.sleep(0.1)
        yield started
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
        for reader in readers:
            reader.join(5)
