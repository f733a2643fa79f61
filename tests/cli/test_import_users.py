"""``authgate import-users``: streamed, in batches, with progress, a summary and --dry-run."""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from tests.cli.conftest import Authgate

HASH = "$2b$10$" + "a" * 53


def write(path: Path, lines: list[str]) -> str:
    path.write_text("\n".join(lines) + "\n")
    return str(path)


def line(email: str, **extra: object) -> str:
    return json.dumps({"email": email, "password_hash": HASH, **extra})


MIXED = [line("one@site.com"), "not json", line("two@site.com", role="root"), line("ONE@site.com")]


def test_import_writes_the_good_lines_and_names_the_bad_ones(
    authgate: Authgate, tmp_path: Path
) -> None:
    outcome = authgate("import-users", write(tmp_path / "u.jsonl", MIXED))

    assert outcome.code == 1
    assert outcome.out == "imported 1 users, 3 lines skipped\n"
    assert outcome.err.splitlines() == [
        "line 2: not valid JSON",
        "line 3: role must be one of ['admin', 'user']",
        "line 4: email already exists, skipped",
    ]
    assert [row.split()[-1] for row in authgate("users", "list").out.splitlines()] == [
        "one@site.com"
    ]


def test_dry_run_checks_every_line_and_writes_nothing(authgate: Authgate, tmp_path: Path) -> None:
    assert (
        authgate("import-users", write(tmp_path / "first.jsonl", [line("old@site.com")])).code == 0
    )
    lines = [*MIXED, line("old@site.com")]

    outcome = authgate("import-users", write(tmp_path / "u.jsonl", lines), "--dry-run")

    assert outcome.code == 1
    assert outcome.out == "would import 1 users, 4 lines skipped (dry run: nothing written)\n"
    assert "line 5: email already exists, skipped" in outcome.err
    assert authgate("users", "list").out.split()[-1] == "old@site.com"
    assert len(authgate("users", "list").out.splitlines()) == 1


def test_import_of_a_missing_file_is_one_line(authgate: Authgate) -> None:
    outcome = authgate("import-users", "nowhere.jsonl")

    assert (outcome.code, outcome.err) == (
        1,
        "authgate import-users: no such file: nowhere.jsonl\n",
    )


def test_import_before_migrate_says_to_run_migrate(unmigrated: Authgate, tmp_path: Path) -> None:
    outcome = unmigrated("import-users", write(tmp_path / "u.jsonl", [line("a@site.com")]))

    assert outcome.code == 1
    assert outcome.err.startswith("authgate import-users: database not migrated (")
    assert outcome.err.endswith("run `authgate migrate`\n")


def never_the_import_file(read: Callable[..., Any]) -> Callable[..., Any]:
    def guarded(path: Path, *args: Any, **kwargs: Any) -> Any:
        assert path.name != "big.jsonl", "the import file must be streamed, not read whole"
        return read(path, *args, **kwargs)

    return guarded


@pytest.mark.slow
def test_a_hundred_thousand_lines_stream_through_in_seconds(
    unmigrated: Authgate, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert unmigrated("migrate").code == 0
    count = 100_000
    with (tmp_path / "big.jsonl").open("w") as handle:
        for n in range(count):
            handle.write(line(f"user{n}@site.com") + "\n")

    with monkeypatch.context() as streamed_only:
        for reader in ("read_text", "read_bytes"):
            streamed_only.setattr(Path, reader, never_the_import_file(getattr(Path, reader)))
        started = time.monotonic()
        dry = unmigrated("import-users", str(tmp_path / "big.jsonl"), "--dry-run")
        done = unmigrated("import-users", str(tmp_path / "big.jsonl"))
        elapsed = time.monotonic() - started

    assert (dry.code, dry.out) == (
        0,
        f"would import {count} users, 0 lines skipped (dry run: nothing written)\n",
    )
    assert (done.code, done.out) == (0, f"imported {count} users, 0 lines skipped\n")
    assert elapsed < 60  # no hash is verified at import: only its format is checked
    assert unmigrated("users", "show", f"user{count - 1}@site.com").code == 0
