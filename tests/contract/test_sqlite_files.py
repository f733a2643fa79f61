"""The embedded SQLite database holds password hashes, IPs and user agents: its directory
and files are the service user's alone."""

from __future__ import annotations

import stat
from datetime import UTC, datetime
from pathlib import Path

import pytest

from infrastructure.persistence.migrations import migrate
from infrastructure.persistence.sqlite import SqliteDatabase


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


@pytest.mark.usefixtures("usual_umask")
async def test_a_new_database_and_its_directory_are_private_to_the_service_user(
    tmp_path: Path,
) -> None:
    path = tmp_path / "data" / "authgate.db"
    database = SqliteDatabase(path)
    try:
        await migrate(database)
        async with database.transaction() as tx:
            await tx.execute(
                "INSERT INTO one_time_values (key, value, expires_at) VALUES ($1, $2, $3)",
                "k",
                b"v",
                datetime(2030, 1, 1, tzinfo=UTC),
            )
        files = {p.name: mode(p) for p in path.parent.iterdir()}
        assert files == {
            "authgate.db": 0o600,
            "authgate.db-wal": 0o600,
            "authgate.db-shm": 0o600,
        }
        assert mode(path.parent) == 0o700
    finally:
        await database.close()


@pytest.mark.usefixtures("usual_umask")
async def test_an_existing_data_directory_keeps_its_mode(tmp_path: Path) -> None:
    shared = tmp_path / "shared"
    shared.mkdir(mode=0o750)
    database = SqliteDatabase(shared / "authgate.db")
    try:
        await migrate(database)
        assert mode(shared) == 0o750
        assert mode(shared / "authgate.db") == 0o600
    finally:
        await database.close()


@pytest.mark.usefixtures("usual_umask")
async def test_a_database_created_world_readable_before_is_made_private(tmp_path: Path) -> None:
    path = tmp_path / "authgate.db"
    for name in ("authgate.db", "authgate.db-wal"):
        (tmp_path / name).touch(mode=0o644)
    database = SqliteDatabase(path)
    try:
        await migrate(database)
        assert mode(path) == 0o600
        assert mode(tmp_path / "authgate.db-wal") == 0o600
    finally:
        await database.close()
