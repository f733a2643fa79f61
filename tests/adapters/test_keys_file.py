"""The keys file on a real file system, created by several worker processes at once."""

from __future__ import annotations

import multiprocessing
import stat
from multiprocessing.synchronize import Barrier
from pathlib import Path
from typing import Any

from infrastructure.security.keys import load_or_create_keys

WORKERS = 4
TRIALS = 25


def start_like_a_worker(root: Path, barrier: Barrier, results: Any) -> None:
    """One process: for every trial, wait for the others, then load or create the keys."""
    for trial in range(TRIALS):
        barrier.wait()
        try:
            keys = load_or_create_keys(root / str(trial) / "jwks.json")
        except Exception as e:  # every failure is reported to the test, not lost in a child
            results.put((trial, f"{type(e).__name__}: {e}"))
        else:
            results.put((trial, (keys.signing.keys[0].kid, keys.refresh_secret)))


def test_workers_starting_together_on_a_fresh_install_all_get_the_same_keys(
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
    seen: dict[int, list[object]] = {}
    for _ in range(WORKERS * TRIALS):
        trial, outcome = results.get(timeout=120)
        seen.setdefault(trial, []).append(outcome)
    for worker in workers:
        worker.join(timeout=30)

    failures = [o for outcomes in seen.values() for o in outcomes if isinstance(o, str)]
    assert failures == []
    assert all(len(set(outcomes)) == 1 for outcomes in seen.values())
    for trial in range(TRIALS):
        directory = tmp_path / str(trial)
        assert [p.name for p in directory.iterdir()] == ["jwks.json"]  # no temporary left
        assert stat.S_IMODE((directory / "jwks.json").stat().st_mode) == 0o600
