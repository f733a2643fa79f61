"""The raw argon2id verify rate with as many processes as the server has workers: the
ceiling a password login can reach on this machine."""

from __future__ import annotations

import time
from concurrent.futures import ProcessPoolExecutor

from argon2 import PasswordHasher

from infrastructure.security.passwords import Argon2PasswordHasher


def _verify_for(stored: str, seconds: float) -> int:
    hasher = PasswordHasher()
    count, deadline = 0, time.perf_counter() + seconds
    while time.perf_counter() < deadline:
        hasher.verify(stored, "bench-password-1")
        count += 1
    return count


def verify_rate(processes: int, seconds: float) -> float:
    """Verifications per second of a hash made with the service's own parameters."""
    import asyncio

    stored = asyncio.run(Argon2PasswordHasher().hash("bench-password-1"))
    with ProcessPoolExecutor(processes) as pool:
        pool.submit(_verify_for, stored, 0.2).result()  # the workers are up
        counts = list(pool.map(_verify_for, [stored] * processes, [seconds] * processes))
    return sum(counts) / seconds
