"""A transaction run whole on SQLite's writer thread: all of it or none of it."""

from __future__ import annotations

import asyncio
import sqlite3
from pathlib import Path

import pytest

from domain.errors import StorageUnavailable
from infrastructure.persistence.database import Tx, UniqueViolation
from infrastructure.persistence.sqlite import SqliteDatabase
from infrastructure.persistence.sqlite_statements import when_free


@pytest.fixture
async def database(tmp_path: Path):
    db = SqliteDatabase(tmp_path / "run.db")
    await db.execute_script("CREATE TABLE t (k TEXT PRIMARY KEY, v INTEGER NOT NULL)")
    yield db
    await db.close()


async def rows(db: SqliteDatabase) -> list[tuple[str, int]]:
    async with db.transaction(write=False) as tx:
        found = await tx.fetchall("SELECT k, v FROM t ORDER BY k")
    return [(row["k"], row["v"]) for row in found]


async def test_the_work_commits_with_its_result(database: SqliteDatabase) -> None:
    async def work(tx: Tx) -> int:
        await tx.execute("INSERT INTO t (k, v) VALUES ($1, $2)", "a", 1)
        await tx.execute("INSERT INTO t (k, v) VALUES ($1, $2)", "b", 2)
        row = await tx.fetchone("SELECT SUM(v) AS total FROM t")
        assert row is not None
        return int(row["total"])

    assert await database.run(work) == 3
    assert await rows(database) == [("a", 1), ("b", 2)]


async def test_a_failing_work_leaves_nothing_written(database: SqliteDatabase) -> None:
    async def work(tx: Tx) -> None:
        await tx.execute("INSERT INTO t (k, v) VALUES ($1, $2)", "a", 1)
        raise LookupError("changed its mind")

    with pytest.raises(LookupError):
        await database.run(work)
    assert await rows(database) == []


async def test_a_unique_clash_is_reported_and_nothing_is_written(
    database: SqliteDatabase,
) -> None:
    async def work(tx: Tx) -> None:
        await tx.execute("INSERT INTO t (k, v) VALUES ($1, $2)", "a", 1)
        await tx.execute("INSERT INTO t (k, v) VALUES ($1, $2)", "a", 2)

    with pytest.raises(UniqueViolation):
        await database.run(work)
    assert await rows(database) == []


async def test_a_work_that_waits_on_anything_else_is_refused_and_undone(
    database: SqliteDatabase,
) -> None:
    async def work(tx: Tx) -> None:
        await tx.execute("INSERT INTO t (k, v) VALUES ($1, $2)", "a", 1)
        await _Pause()  # would hold the write lock across a trip to the event loop

    with pytest.raises(RuntimeError, match="only its own statements"):
        await database.run(work)
    assert await rows(database) == []


class _Pause:
    def __await__(self):
        yield


async def test_concurrent_runs_and_transactions_take_turns(database: SqliteDatabase) -> None:
    async def bump(tx: Tx) -> None:
        row = await tx.fetchone("SELECT v FROM t WHERE k = $1", "n")
        await tx.execute("UPDATE t SET v = $1 WHERE k = $2", int(row["v"]) + 1 if row else 0, "n")

    async def bump_in_steps() -> None:
        async with database.transaction() as tx:
            await bump(tx)

    await database.run(lambda tx: tx.execute("INSERT INTO t (k, v) VALUES ('n', 0)"))
    await asyncio.gather(
        *(database.run(bump) for _ in range(20)), *(bump_in_steps() for _ in range(20))
    )
    assert await rows(database) == [("n", 40)]


async def test_after_close_a_run_is_refused(database: SqliteDatabase) -> None:
    await database.close()
    with pytest.raises(StorageUnavailable):
        await database.run(lambda tx: tx.execute("INSERT INTO t (k, v) VALUES ('a', 1)"))


def busy(code: int) -> sqlite3.OperationalError:
    error = sqlite3.OperationalError("database is locked")
    error.sqlite_errorcode = code
    return error


@pytest.mark.parametrize(
    "code",
    [
        sqlite3.SQLITE_BUSY,
        sqlite3.SQLITE_LOCKED,
        261,  # SQLITE_BUSY_RECOVERY: another connection recovers the WAL of a new file
        517,  # SQLITE_BUSY_SNAPSHOT
    ],
)
def test_a_busy_database_is_waited_for_whatever_extended_code_it_answers(code: int) -> None:
    answers: list[sqlite3.OperationalError | None] = [busy(code), busy(code), None]

    def statement() -> None:
        if (answer := answers.pop(0)) is not None:
            raise answer

    when_free(statement)

    assert answers == []


def test_an_error_that_is_not_busy_is_raised_at_once() -> None:
    answers = [busy(sqlite3.SQLITE_READONLY), None]

    def statement() -> None:
        if (answer := answers.pop(0)) is not None:
            raise answer

    with pytest.raises(sqlite3.OperationalError):
        when_free(statement)
    assert answers == [None]
