"""The secrets key file (AUTH_SECRETS_KEY_FILE) on a real file system: created whole, mode
0600, the same key for workers starting together, and a broken file refused by name."""

from __future__ import annotations

import multiprocessing
import stat
from multiprocessing.synchronize import Barrier
from pathlib import Path
from typing import Any

import pytest

from infrastructure.security.secrets_key import SecretsKeyError, load_or_create_secrets_key

WORKERS = 4
TRIALS = 10


def test_the_first_start_creates_a_256_bit_key_readable_by_the_service_only(
    tmp_path: Path,
) -> None:
    path = tmp_path / "data" / "secrets.key"
    key = load_or_create_secrets_key(path)
    assert len(key) == 32
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert load_or_create_secrets_key(path) == key
    assert [p.name for p in path.parent.iterdir()] == ["secrets.key"]


@pytest.mark.parametrize(
    ("content", "message"),
    [(b"not base64 at all!\n", "not a base64url key"), (b"c2hvcnQ=\n", "must hold 32 bytes")],
)
def test_a_file_without_a_usable_key_is_refused_by_name(
    tmp_path: Path, content: bytes, message: str
) -> None:
    path = tmp_path / "secrets.key"
    path.write_bytes(content)
    with pytest.raises(SecretsKeyError, match=message) as raised:
        load_or_create_secrets_key(path)
    assert str(path) in str(raised.value)
    assert path.read_bytes() == content  # never replaced: it may seal secrets in use


def start_like_a_worker(root: Path, barrier: Barrier, results: Any) -> None:
    for trial in range(TRIALS):
        barrier.wait()
        try:
            results.put((trial, load_or_create_secrets_key(root / str(trial) / "secrets.key")))
        except Exception as e:  # reported to the test, not lost in a child
            results.put((trial, f"{type(e).__name__}: {e}"))


def test_workers_starting_together_on_a_fresh_install_all_get_the_same_key(
    tmp_path: Path,
) -> None:
    context = multiprocessing.get_context("spawn")
    barrier, results = context.Barrier(WORKERS), context.Queue()
    workers = [
        context.Process(target=start_like_a_worker, args=(tmp_path, barrier, results))
        for _ in range(WORKERS)
    ]
    for worker in workers:
        worker.start()
    seen: dict[int, set[object]] = {}
    for _ in range(WORKERS * TRIALS):
        trial, outcome = results.get(timeout=120)
        seen.setdefault(trial, set()).add(outcome)
    for worker in workers:
        worker.join(timeout=30)

    assert all(len(outcomes) == 1 for outcomes in seen.values()), seen
    assert all(isinstance(o, bytes) for outcomes in seen.values() for o in outcomes)
