"""A real authgate process on loopback, served by granian exactly as `just serve` does."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

BIN = Path(sys.executable).parent


@dataclass(frozen=True)
class Server:
    url: str
    port: int
    workdir: Path


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    with running_server(tmp_path_factory.mktemp("server")) as started:
        yield started


@contextmanager
def running_server(workdir: Path, **settings: str) -> Iterator[Server]:
    """`authgate migrate`, then granian serving the app; AUTH_* settings as given."""
    port = free_port()
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith("AUTH_")},
        "AUTH_PORT": str(port),
        "AUTH_ISSUER": f"http://127.0.0.1:{port}",
        **settings,
    }
    subprocess.run(
        [BIN / "authgate", "migrate"], cwd=workdir, env=env, check=True, capture_output=True
    )
    process = subprocess.Popen(
        [
            BIN / "granian",
            "--interface",
            "asgi",
            "--factory",
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "interfaces.http.asgi:app_from_environment",
        ],
        cwd=workdir,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                if httpx.get(f"{url}/health/live", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            if process.poll() is not None or time.monotonic() > deadline:
                output = process.stdout.read().decode() if process.stdout else ""
                pytest.fail(f"the server did not start:\n{output}")
            time.sleep(0.1)
        yield Server(url=url, port=port, workdir=workdir)
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
