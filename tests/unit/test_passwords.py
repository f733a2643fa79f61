"""The real hasher: argon2id for new hashes, legacy bcrypt verified and flagged for rehash."""

from __future__ import annotations

import bcrypt
import pytest
from argon2 import PasswordHasher as Argon2

from infrastructure.security.passwords import Argon2PasswordHasher

hasher = Argon2PasswordHasher()


async def test_new_hashes_are_argon2id_with_owasp_parameters() -> None:
    hashed = await hasher.hash("correct horse")
    assert hashed.startswith("$argon2id$v=19$m=19456,t=2,p=1$")
    assert await hasher.verify(hashed, "correct horse")
    assert not await hasher.verify(hashed, "wrong horse")
    assert not hasher.needs_rehash(hashed)


@pytest.mark.parametrize("prefix", ["$2a$", "$2b$", "$2y$"])
async def test_legacy_bcrypt_hashes_verify_and_need_a_rehash(prefix: str) -> None:
    legacy = bcrypt.hashpw(b"secret123", bcrypt.gensalt(rounds=4)).decode()
    legacy = prefix + legacy[4:]
    assert await hasher.verify(legacy, "secret123")
    assert not await hasher.verify(legacy, "secret124")
    assert hasher.needs_rehash(legacy)


async def test_a_password_over_72_bytes_against_bcrypt_is_a_failed_match_not_an_error() -> None:
    legacy = bcrypt.hashpw(b"x" * 72, bcrypt.gensalt(rounds=4)).decode()
    assert not await hasher.verify(legacy, "x" * 80)


async def test_weaker_argon2_parameters_need_a_rehash() -> None:
    weak = Argon2(memory_cost=8192, time_cost=1, parallelism=1).hash("secret123")
    assert await hasher.verify(weak, "secret123")
    assert hasher.needs_rehash(weak)


@pytest.mark.parametrize("garbage", ["", "plain-text", "$argon2id$broken", "$2b$10$short"])
async def test_an_unusable_hash_never_verifies_and_never_raises(garbage: str) -> None:
    assert not await hasher.verify(garbage, "secret123")
    assert hasher.needs_rehash(garbage)
