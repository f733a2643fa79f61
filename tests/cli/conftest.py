"""``authgate`` run in-process, as an operator runs it, against a migrated SQLite file or this
run's PostgreSQL database; stdout and stderr captured."""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import pytest

from interfaces.cli import main
from tests.backends import run_sync
from tests.backends.postgres import truncate


@dataclass(frozen=True)
class Outcome:
    code: int
    out: str
    err: str


Authgate = Callable[..., Outcome]


def run_main(capsys: pytest.CaptureFixture[str], *argv: str) -> Outcome:
    capsys.readouterr()  # what a server in the same test logged before is not the command's
    # main() runs its own event loop, so it gets a thread of its own.
    with ThreadPoolExecutor(max_workers=1) as pool:
        code = pool.submit(main, list(argv)).result()
    captured = capsys.readouterr()
    return Outcome(code, captured.out, captured.err)


@pytest.fixture
def unmigrated(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> Authgate:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("AUTH_DATABASE_URL", f"sqlite:///{tmp_path / 'authgate.db'}")
    monkeypatch.setenv("AUTH_KEYS_FILE", str(tmp_path / "jwks.json"))
    return lambda *argv: run_main(capsys, *argv)


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.backends)])
def authgate(
    request: pytest.FixtureRequest,
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> Authgate:
    """``authgate`` on a migrated, empty database."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("AUTH_KEYS_FILE", str(tmp_path / "jwks.json"))
    if request.param == "sqlite":
        monkeypatch.setenv("AUTH_DATABASE_URL", f"sqlite:///{tmp_path / 'authgate.db'}")
    else:
        url: str = request.getfixturevalue("postgres_url")
        monkeypatch.setenv("AUTH_DATABASE_URL", url)
    assert run_main(capsys, "migrate").code == 0
    if request.param == "postgres":
        run_sync(truncate(url))
    return lambda *argv: run_main(capsys, *argv)
