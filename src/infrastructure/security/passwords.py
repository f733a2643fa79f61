"""Password hashing: argon2id for every new hash, legacy bcrypt accepted and migrated."""

from __future__ import annotations

import asyncio

import bcrypt
from argon2 import PasswordHasher as Argon2
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

from domain.ports import PasswordHasher

_BCRYPT_PREFIXES = ("$2a$", "$2b$", "$2y$")


class Argon2PasswordHasher(PasswordHasher):
    """OWASP Password Storage Cheat Sheet: argon2id, m=19 MiB, t=2, p=1 (the defaults).

    Hashing takes tens of milliseconds of CPU; it runs in a worker thread (the C code
    releases the GIL) so the event loop keeps serving.
    """

    def __init__(self, *, memory_cost: int = 19456, time_cost: int = 2, parallelism: int = 1):
        self._argon2 = Argon2(memory_cost=memory_cost, time_cost=time_cost, parallelism=parallelism)

    async def hash(self, password: str) -> str:
        return await asyncio.to_thread(self._argon2.hash, password)

    async def verify(self, password_hash: str, password: str) -> bool:
        return await asyncio.to_thread(self._verify, password_hash, password)

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
        try:
            return self._argon2.verify(password_hash, password)
        except (VerifyMismatchError, VerificationError, InvalidHashError):
            return False


def _bcrypt_verify(password_hash: str, password: str) -> bool:
    try:
        return bcrypt.checkpw(password.encode(), password_hash.encode())
    except ValueError:
        # bcrypt >= 5 refuses passwords over 72 bytes instead of truncating them: such a
        # password can never have been the one hashed, so it is a failed match, not a 500.
        return False
