"""Password hashing: argon2id for every new hash, legacy bcrypt accepted and migrated."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import TypeVar

import bcrypt
from argon2 import PasswordHasher as Argon2
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

from application.admin.import_lines import BCRYPT_MAX_COST, argon2_affordable
from domain.ports import PasswordHasher

T = TypeVar("T")
_BCRYPT_PREFIXES = ("$2a$", "$2b$", "$2y$")
BCRYPT_MAX_BYTES = 72
# The least time a failed check takes. It covers the slowest hash we accept, bcrypt at
# BCRYPT_MAX_COST (about 215 ms on the 2-core reference machine), with headroom; `just bench`
# measures that it holds.
FAILED_CHECK_FLOOR = 0.3


class Argon2PasswordHasher(PasswordHasher):
    """OWASP Password Storage Cheat Sheet: argon2id, m=19 MiB, t=2, p=1 (the defaults).

    Hashing takes tens of milliseconds of CPU; it runs on a pool of its own of
    ``concurrency`` threads (give it the process's share of the cores; the C code releases
    the GIL) so the event loop keeps serving. Each takes 19 MiB, and a dozen at once on two
    cores only fight over the caches, doing less work in all. The pool's queue holds the
    hashes waiting: a thread that finishes one starts the next at once, without a turn of
    the event loop (with a semaphore around ``to_thread`` it waited for the loop to wake
    the next waiter, under load a tenth of the hash's time).

    A failed check finishes no sooner than ``failure_floor`` seconds after it began (OWASP
    Authentication Cheat Sheet, "Authentication Responses": the same time whatever the
    account; ASVS V2.2 / V6.3.8). Without it an imported bcrypt account would stand out: cost
    12 takes ~10x an argon2id check. The rest of the floor is awaited, not computed, so it
    costs no CPU; a successful check is not held back.
    """

    def __init__(
        self,
        *,
        memory_cost: int = 19456,
        time_cost: int = 2,
        parallelism: int = 1,
        failure_floor: float = FAILED_CHECK_FLOOR,
        concurrency: int = 1,
    ):
        self._argon2 = Argon2(memory_cost=memory_cost, time_cost=time_cost, parallelism=parallelism)
        self._failure_floor = failure_floor
        self._pool = ThreadPoolExecutor(concurrency, thread_name_prefix="authgate-argon2")

    async def hash(self, password: str) -> str:
        return await self._on_pool(self._argon2.hash, password)

    async def verify(self, password_hash: str, password: str) -> bool:
        started = time.monotonic()
        verified = await self._on_pool(self._verify, password_hash, password)
        if verified:
            return True
        await asyncio.sleep(self._failure_floor - (time.monotonic() - started))
        return False

    async def _on_pool(self, work: Callable[..., T], *args: str) -> T:
        # A request cancelled while its hash waits in the queue takes it out (never run).
        return await asyncio.get_running_loop().run_in_executor(self._pool, work, *args)

    def needs_rehash(self, password_hash: str) -> bool:
        if password_hash.startswith(_BCRYPT_PREFIXES):
            return True
        try:
            return self._argon2.check_needs_rehash(password_hash)
        except InvalidHashError:
            return True

    def _verify(self, password_hash: str, password: str) -> bool:
        if password_hash.startswith(_BCRYPT_PREFIXES):
            return _bcrypt_verify(password_hash, password)
        if not argon2_affordable(password_hash):
            # As for bcrypt: import refuses such a hash; one written by other means is
            # unusable, never computed (a wrong password against it would cost seconds).
            return False
        try:
            return self._argon2.verify(password_hash, password)
        except (VerifyMismatchError, VerificationError, InvalidHashError):
            return False


def _bcrypt_verify(password_hash: str, password: str) -> bool:
    cost = password_hash[4:6]
    if not cost.isdigit() or int(cost) > BCRYPT_MAX_COST:
        # Slower than the floor covers (and a CPU lever: cost 31 runs for days). Import
        # refuses such hashes; one written by other means is unusable, never computed.
        return False
    encoded = password.encode()
    try:
        # bcrypt >= 5 refuses a password over 72 bytes at once, in ~2 ms where a real check
        # takes 50-250 ms. Compute the check on the first 72 bytes all the same, then refuse:
        # such a password was never the one hashed (bcrypt would have truncated it).
        matches = bcrypt.checkpw(encoded[:BCRYPT_MAX_BYTES], password_hash.encode())
    except ValueError:
        return False  # a malformed bcrypt hash
    return matches and len(encoded) <= BCRYPT_MAX_BYTES
