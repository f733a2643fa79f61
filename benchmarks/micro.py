"""In-process micro figures (no server, no load generator).

Targets (on the 2-core reference machine): argon2id hash 15-150 ms (strong but not a
denial-of-service lever), ES256 verify < 0.5 ms and a cached verify < 20 µs, unknown-email
vs wrong-password login medians within 5 %, every kind of failed login (unknown email,
wrong password on argon2id, bcrypt cost 10 or 12, over 72 bytes on bcrypt) with medians
within 25 % of each other, and > 150 refreshes/s in one process on SQLite.
"""

from __future__ import annotations

import json
import statistics
import tempfile
import time
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import bcrypt
from litestar.testing import AsyncTestClient

from benchmarks.mail import bench_email_sign_in, bench_forgot, bench_outbox
from benchmarks.table import Row
from domain.assurance import Assurance
from domain.ports import AccessClaims
from infrastructure.config import load_settings
from infrastructure.security.keys import load_or_create_keys
from infrastructure.security.passwords import Argon2PasswordHasher
from infrastructure.security.tokens import JwtAccessTokens
from interfaces.bootstrap import open_service
from interfaces.bootstrap.backends import migrate
from interfaces.http.app import create_app

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
            assurance=Assurance(now, ("pwd",)),
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

        await import_bcrypt_users(settings)
        failed = await failed_logins(client, max(5, rounds * 3 // 8))
        medians = {kind: statistics.median(samples) * 1000 for kind, samples in failed.items()}
        ratio = medians["unknown email"] / medians["wrong password, argon2id"]
        spread = max(medians.values()) / min(medians.values())

        count, started = 0, time.perf_counter()
        while time.perf_counter() - started < 2.0:
            response = await client.post("/auth/refresh")
            assert response.status_code == 200, response.text
            count += 1
        per_second = count / (time.perf_counter() - started)
    return [
        *((f"failed login median, {kind}", ms, "ms", True) for kind, ms in medians.items()),
        ("unknown/wrong login ratio", ratio, "x", 0.95 <= ratio <= 1.05),
        ("failed login medians, max/min", spread, "x", spread <= 1.25),
        ("refresh rotations per second (SQLite)", per_second, "/s", per_second > 150),
    ]


# Legacy accounts, each with the password "legacy-password"; the argon2id one registers.
BCRYPT_ACCOUNTS = {"bcrypt10@site.com": 10, "bcrypt12@site.com": 12}


async def import_bcrypt_users(settings: Any) -> None:
    lines = [
        json.dumps(
            {
                "email": email,
                "password_hash": bcrypt.hashpw(b"legacy-password", bcrypt.gensalt(cost)).decode(),
            }
        )
        for email, cost in BCRYPT_ACCOUNTS.items()
    ]
    async with open_service(settings) as service:
        report = await service.cases.import_users.execute(lines)
    assert report.imported == len(lines), report.problems


async def failed_logins(client: AsyncTestClient[Any], rounds: int) -> dict[str, list[float]]:
    """Every kind of failed login, interleaved so drift in the machine's load hits all."""
    kinds = {
        "unknown email": ("nobody@site.com", "wrong-password"),
        "wrong password, argon2id": ("bench@site.com", "wrong-password"),
        "wrong password, bcrypt 10": ("bcrypt10@site.com", "wrong-password"),
        "wrong password, bcrypt 12": ("bcrypt12@site.com", "wrong-password"),
        "over 72 bytes, bcrypt 10": ("bcrypt10@site.com", "legacy-password" + "x" * 70),
    }
    samples: dict[str, list[float]] = {kind: [] for kind in kinds}

    async def login(email: str, password: str) -> None:
        response = await client.post("/auth/login", json={"email": email, "password": password})
        assert response.status_code == 401, response.text

    for round_ in range(rounds + 1):  # the first round warms up (the dummy hash is made)
        for kind, (email, password) in kinds.items():
            elapsed = await _time(login(email, password))
            if round_:
                samples[kind].append(elapsed)
    return samples


async def _time(step: Awaitable[Any]) -> float:
    started = time.perf_counter()
    await step
    return time.perf_counter() - started


async def rows(*, quick: bool) -> list[Row]:
    """The in-process rows, each as one table row."""
    rounds = 10 if quick else 40
    with tempfile.TemporaryDirectory() as tmp:
        workdir = Path(tmp)
        results = [
            *await bench_hashing(rounds),
            *bench_tokens(rounds * 25, workdir),
            *await bench_http(rounds, workdir),
            *await bench_forgot(rounds, workdir),
            *await bench_email_sign_in(rounds, workdir),
            *await bench_outbox(rounds * 5, workdir),
        ]
    return [
        Row(name, f"{value:,.2f} {unit}", TARGETS.get(name, ""), ok)
        for name, value, unit, ok in results
    ]


TARGETS = {
    "argon2id hash (median)": "15-150 ms",
    "ES256 sign (median)": "< 1000 µs",
    "ES256 verify (median)": "< 500 µs",
    "ES256 verify, cached (median)": "< 20 µs",
    "unknown/wrong login ratio": "0.95-1.05",
    "failed login medians, max/min": "≤ 1.25",
    "refresh rotations per second (SQLite)": "> 150 /s",
    "forgot known/unknown ratio": "0.8-1.25",
    "email sign-in known/unknown ratio": "0.8-1.25",
}
