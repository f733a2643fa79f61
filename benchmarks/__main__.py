"""Measure the costs that matter for an auth service and check them against targets.

    uv run just bench            # all
    uv run just bench --quick    # fewer rounds

Targets (on the 2-core reference machine): argon2id hash 15-150 ms (strong but not a
denial-of-service lever), ES256 verify < 0.5 ms and a cached verify < 20 µs, unknown-email
vs wrong-password login medians within 5 %, and > 150 refreshes/s in one process on SQLite.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import statistics
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from litestar.testing import AsyncTestClient

from domain.ports import AccessClaims
from infrastructure.config import load_settings
from infrastructure.security.keys import load_or_create_keys
from infrastructure.security.passwords import Argon2PasswordHasher
from infrastructure.security.tokens import JwtAccessTokens
from interfaces.http.app import create_app
from interfaces.http.container import migrate

Result = tuple[str, float, str, bool]


def timed(fn: Callable[[], object], rounds: int) -> list[float]:
    samples = []
    for _ in range(rounds):
        started = time.perf_counter()
        fn()
        samples.append(time.perf_counter() - started)
    return samples


async def bench_hashing(rounds: int) -> list[Result]:
    hasher = Argon2PasswordHasher()
    samples = []
    for _ in range(rounds):
        started = time.perf_counter()
        await hasher.hash("correct horse battery staple")
        samples.append(time.perf_counter() - started)
    ms = statistics.median(samples) * 1000
    return [("argon2id hash (median)", ms, "ms", 15 <= ms <= 150)]


def bench_tokens(rounds: int, workdir: Path) -> list[Result]:
    keys = load_or_create_keys(workdir / "bench-keys.json")
    tokens = JwtAccessTokens(
        keys.signing, issuer="https://bench", audience="bench", clock=lambda: datetime.now(UTC)
    )
    now = datetime.now(UTC)

    def claims(i: int) -> AccessClaims:
        return AccessClaims(
            user_id=i,
            session_id=f"s{i}",
            role="user",
            token_id=f"j{i}",
            issued_at=now,
            expires_at=now + timedelta(minutes=15),
        )

    issued = [tokens.issue(claims(i)) for i in range(rounds)]
    sign = statistics.median(timed(lambda: tokens.issue(claims(0)), rounds)) * 1e6
    fresh = iter(issued)
    verify = statistics.median(timed(lambda: tokens.verify(next(fresh)), rounds)) * 1e6
    cached = statistics.median(timed(lambda: tokens.verify(issued[0]), rounds)) * 1e6
    return [
        ("ES256 sign (median)", sign, "µs", sign < 1000),
        ("ES256 verify (median)", verify, "µs", verify < 500),
        ("ES256 verify, cached (median)", cached, "µs", cached < 20),
    ]


async def bench_http(rounds: int, workdir: Path) -> list[Result]:
    settings = load_settings(
        {
            "AUTH_DATABASE_URL": f"sqlite:///{workdir / 'bench.db'}",
            "AUTH_KEYS_FILE": str(workdir / "bench-keys.json"),
            "AUTH_LOGIN_LIMIT": "100000",
            "AUTH_REFRESH_LIMIT": "100000",
        },
        dotenv=None,
    )
    await migrate(settings)
    async with AsyncTestClient(create_app(settings), base_url="https://bench.local") as client:
        await client.post(
            "/auth/register", json={"email": "bench@site.com", "password": "bench-password"}
        )

        async def login(email: str) -> None:
            await client.post("/auth/login", json={"email": email, "password": "wrong-password"})

        unknown, wrong = [], []
        for _ in range(rounds):
            for email, samples in (("nobody@site.com", unknown), ("bench@site.com", wrong)):
                samples.append(await _time(login(email)))
        ratio = statistics.median(unknown) / statistics.median(wrong)

        count, started = 0, time.perf_counter()
        while time.perf_counter() - started < 2.0:
            response = await client.post("/auth/refresh")
            assert response.status_code == 200, response.text
            count += 1
        per_second = count / (time.perf_counter() - started)
    return [
        ("login median, unknown email", statistics.median(unknown) * 1000, "ms", True),
        ("login median, wrong password", statistics.median(wrong) * 1000, "ms", True),
        ("unknown/wrong login ratio", ratio, "x", 0.95 <= ratio <= 1.05),
        ("refresh rotations per second (SQLite)", per_second, "/s", per_second > 150),
    ]


async def _time(step: Awaitable[Any]) -> float:
    started = time.perf_counter()
    await step
    return time.perf_counter() - started


async def main(argv: list[str]) -> int:
    for noisy in ("httpx", "authgate"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
    parser = argparse.ArgumentParser(prog="just bench")
    parser.add_argument("--quick", action="store_true", help="fewer rounds")
    args = parser.parse_args(argv)
    rounds = 10 if args.quick else 40
    with tempfile.TemporaryDirectory() as tmp:
        workdir = Path(tmp)
        results = [
            *await bench_hashing(rounds),
            *bench_tokens(rounds * 25, workdir),
            *await bench_http(rounds, workdir),
        ]
    width = max(len(name) for name, *_ in results)
    for name, value, unit, ok in results:
        print(f"{name:<{width}}  {value:>10.2f} {unit:<3} {'ok' if ok else 'MISSED TARGET'}")
    return 0 if all(ok for *_, ok in results) else 1


if __name__ == "__main__":
    sys.exit(asyncio.run(main(sys.argv[1:])))
