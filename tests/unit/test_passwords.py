"""The real hasher: argon2id for new hashes, legacy bcrypt verified and flagged for rehash."""

from __future__ import annotations

import asyncio
import time

import bcrypt
import pytest
from argon2 import PasswordHasher as Argon2

from infrastructure.security.passwords import Argon2PasswordHasher

hasher = Argon2PasswordHasher(failure_floor=0)
FLOOR = 0.2


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


def legacy(password: bytes = b"secret123", cost: int = 4) -> str:
    return bcrypt.hashpw(password, bcrypt.gensalt(rounds=cost)).decode()


FAILURES = {
    "wrong password, argon2id": (Argon2().hash("secret123"), "secret124"),
    "wrong password, bcrypt": (legacy(), "secret124"),
    "over 72 bytes, bcrypt": (legacy(b"x" * 72), "x" * 80),
    "malformed hash": ("$2b$10$short", "secret123"),
    "bcrypt over the accepted cost": ("$2b$31$" + legacy()[7:], "secret123"),
}


@pytest.mark.parametrize("kind", FAILURES)
async def test_every_kind_of_failed_check_takes_at_least_the_floor(kind: str) -> None:
    stored, password = FAILURES[kind]
    floored = Argon2PasswordHasher(failure_floor=FLOOR)

    started = time.monotonic()
    assert not await floored.verify(stored, password)

    assert time.monotonic() - started >= FLOOR


async def test_a_successful_check_is_not_held_to_the_floor() -> None:
    floored = Argon2PasswordHasher(failure_floor=30)
    stored = legacy()

    started = time.monotonic()
    assert await floored.verify(stored, "secret123")

    assert time.monotonic() - started < 10


async def test_a_password_over_72_bytes_still_runs_the_bcrypt_check(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    checked: list[bytes] = []
    real_checkpw = bcrypt.checkpw

    def spy(password: bytes, hashed: bytes) -> bool:
        checked.append(password)
        return real_checkpw(password, hashed)

    monkeypatch.setattr(bcrypt, "checkpw", spy)
    stored = legacy(b"x" * 72)

    assert not await hasher.verify(stored, "x" * 80)  # the first 72 bytes match, yet refused
    assert checked == [b"x" * 72]


async def test_a_bcrypt_hash_over_the_accepted_cost_is_never_computed(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    checked: list[bytes] = []
    monkeypatch.setattr(bcrypt, "checkpw", lambda password, hashed: checked.append(password))

    assert not await hasher.verify("$2b$13$" + legacy()[7:], "secret123")
    assert checked == []


async def test_an_argon2_hash_over_the_accepted_cost_is_never_computed(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """1 GiB and 4 passes: seconds of a hashing thread for each wrong password sent."""
    checked: list[str] = []
    monkeypatch.setattr(Argon2, "verify", lambda self, hashed, password: checked.append(hashed))
    costly = "$argon2id$v=19$m=1048576,t=4,p=1$c2FsdHNhbHRzYWx0$aGFzaGhhc2hoYXNoaGFzaGhhc2g"

    assert not await hasher.verify(costly, "secret123")
    assert checked == []


class _CountingArgon2(Argon2):
    """The real argon2id, counting how many of its hashes run at the same moment."""

    def __init__(self) -> None:
        super().__init__()
        self.running = 0
        self.most = 0

    def hash(self, password: str | bytes, *, salt: bytes | None = None) -> str:
        self.running += 1
        self.most = max(self.most, self.running)
        try:
            time.sleep(0.02)
            return super().hash(password, salt=salt)
        finally:
            self.running -= 1


@pytest.mark.parametrize("slots", [1, 2])
async def test_no_more_hashes_run_at_once_than_the_process_has_slots(slots: int) -> None:
    limited = Argon2PasswordHasher(failure_floor=0, concurrency=slots)
    counting = _CountingArgon2()
    limited._argon2 = counting
    await asyncio.gather(*(limited.hash(f"password {i}") for i in range(6)))
    assert counting.most == slots
