"""Driving a server with wrk and reading its numbers (a JSON line from ``lua/report.lua``)."""

from __future__ import annotations

import json
import shutil
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

LUA = Path(__file__).parent / "lua"
THREADS = 2
CONNECTIONS = 64
HOW_TO_GET_WRK = (
    "wrk is not installed: `apt-get install wrk` (Debian/Ubuntu), `brew install wrk` (macOS),"
    " or build it from https://github.com/wg/wrk"
)


@dataclass(frozen=True, slots=True)
class Load:
    rps: float
    p50_ms: float
    p99_ms: float
    non2xx: int
    requests: int


def available() -> bool:
    return shutil.which("wrk") is not None


def run(
    url: str, script: str, args: list[str], seconds: float, connections: int = CONNECTIONS
) -> Load:
    """``script``: a file in ``lua/``, sent with ``report.lua`` appended (each thread's ``id``,
    the report's ``done``)."""
    source = (LUA / script).read_text() + "\n" + (LUA / "report.lua").read_text()
    with tempfile.NamedTemporaryFile("w", suffix=".lua") as file:
        file.write(source)
        file.flush()
        command = [
            "wrk",
            f"-t{THREADS}",
            f"-c{connections}",
            f"-d{max(1, round(seconds))}s",
            "--latency",
        ]
        command += ["-s", file.name, url, "--", *args]
        done = subprocess.run(command, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise RuntimeError(f"wrk failed: {done.stderr or done.stdout}")
    output = done.stdout
    line = next(line for line in output.splitlines() if line.startswith("BENCH "))
    found = json.loads(line.removeprefix("BENCH "))
    return Load(
        rps=found["requests"] / found["seconds"],
        p50_ms=found["p50_us"] / 1000,
        p99_ms=found["p99_us"] / 1000,
        non2xx=found["non2xx"] + found["socket"],
        requests=found["requests"],
    )


def get(url: str, path: str, seconds: float, headers: tuple[str, ...] = ()) -> Load:
    return run(url, "static.lua", ["GET", path, "", *headers], seconds)


def login(url: str, body: str, seconds: float, connections: int, headers: tuple[str, ...]) -> Load:
    return run(url, "login.lua", [body, *headers], seconds, connections)


def refresh(url: str, tokens: Path, cookie: str, seconds: float) -> Load:
    return run(url, "refresh.lua", [str(tokens), str(THREADS), cookie], seconds)


def me(url: str, tokens: Path, seconds: float) -> Load:
    return run(url, "me.lua", [str(tokens), str(THREADS)], seconds)
