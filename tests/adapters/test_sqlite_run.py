"""A transaction run whole on SQLite's writer thread: all of it or none of it."""

from __future__ import annotations

import asyncio
import sqlite3
import sys
import threading
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import pytest

from domain.errors import StorageUnavailable
from infrastructure.persistence.database import Tx, UniqueViolation
from infrastructure.persistence.sqlite import CHECKPOINT_EVERY, SqliteDatabase
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


# Where a run's statements run: the event loop's thread when the write lock is free, the
# writer's thread (which waits for it) when another process holds it.


def thread_of_writes(db: SqliteDatabase) -> list[int]:
    """The thread each row of ``t`` was written on, recorded by a trigger."""
    seen: list[int] = []
    assert db._writer is not None
    db._writer.connection.create_function("seen", 0, lambda: seen.append(threading.get_ident()))
    db._writer.connection.execute(
        "CREATE TEMP TRIGGER seen AFTER INSERT ON t BEGIN SELECT seen(); END"
    )
    return seen


async def test_a_run_with_the_lock_free_runs_on_the_event_loops_thread(
    database: SqliteDatabase,
) -> None:
    seen = thread_of_writes(database)

    await database.run(lambda tx: tx.execute("INSERT INTO t (k, v) VALUES ('a', 1)"))

    assert seen == [threading.get_ident()]
    assert await rows(database) == [("a", 1)]


async def test_a_run_waits_for_another_process_on_its_own_thread_and_the_loop_goes_on(
    database: SqliteDatabase,
) -> None:
    seen = thread_of_writes(database)
    other = sqlite3.connect(database.path, isolation_level=None)
    other.execute("BEGIN IMMEDIATE")  # another process holds the write lock
    run = asyncio.create_task(
        database.run(lambda tx: tx.execute("INSERT INTO t (k, v) VALUES ('a', 1)"))
    )
    ticks = 0
    for _ in range(20):
        await asyncio.sleep(0.005)
        ticks += 1
    assert not run.done()
    assert ticks == 20  # the loop served others meanwhile
    other.execute("COMMIT")
    other.close()

    await run

    assert len(seen) == 1
    assert seen[0] != threading.get_ident()
    assert await rows(database) == [("a", 1)]


# The WAL is copied into the database file by a checkpoint on a thread of its own, never by
# a commit (on the event loop's thread it would stall every request in flight).


def database_file_size(db: SqliteDatabase) -> int:
    return db.path.stat().st_size


async def commit_rows(db: SqliteDatabase, count: int, start: int = 0) -> None:
    for i in range(start, start + count):

        async def insert(tx: Tx, key: str = f"row-{i:05}") -> None:
            await tx.execute("INSERT INTO t (k, v) VALUES ($1, 0)", key)

        await db.run(insert)


async def test_no_commit_checkpoints_the_wal(
    database: SqliteDatabase, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(database._checkpoints, "_every", 10**9)
    await commit_rows(database, 1)
    before = database_file_size(database)

    await commit_rows(database, 1_200, start=1)  # a page each at least: past SQLite's own 1,000

    assert database_file_size(database) == before


async def test_every_so_many_commits_a_checkpoint_copies_the_wal_into_the_file(
    database: SqliteDatabase,
) -> None:
    await commit_rows(database, 1)
    before = database_file_size(database)

    await commit_rows(database, CHECKPOINT_EVERY, start=1)

    for _ in range(100):
        if database_file_size(database) > before:
            break
        await asyncio.sleep(0.02)
    assert database_file_size(database) > before
    assert len(await rows(database)) == CHECKPOINT_EVERY + 1


# Works that come while a transaction of the process is in flight (here: one waiting on the
# writer's thread for another process's lock) queue, and commit together once it is done:
# one transaction, each work under a savepoint of its own.


def commits_of(db: SqliteDatabase) -> list[str]:
    """The COMMITs the process's writer connection sends from now on."""
    assert db._writer is not None
    sent: list[str] = []
    db._writer.connection.set_trace_callback(
        lambda sql: sent.append(sql) if sql.strip().upper() == "COMMIT" else None
    )
    return sent


def insert(key: str):
    async def work(tx: Tx) -> str:
        await tx.execute("INSERT INTO t (k, v) VALUES ($1, 1)", key)
        return key

    return work


@asynccontextmanager
async def another_process_holding_the_lock(db: SqliteDatabase) -> AsyncIterator[asyncio.Task[str]]:
    """Another process holds the write lock; yields a run that waits on the writer's thread
    for it (the runs started inside queue behind it), and lets go on the way out."""
    other = sqlite3.connect(db.path, isolation_level=None)
    other.execute("BEGIN IMMEDIATE")
    first = asyncio.create_task(db.run(insert("first")))
    await asyncio.sleep(0.02)
    yield first
    await asyncio.sleep(0.02)
    assert not first.done()
    other.execute("COMMIT")
    other.close()


async def test_works_queued_behind_a_transaction_in_flight_commit_in_one(
    database: SqliteDatabase,
) -> None:
    await database.run(insert("warm"))  # the writer's connection is open
    commits = commits_of(database)

    async with another_process_holding_the_lock(database) as first:
        queued = [asyncio.create_task(database.run(insert(k))) for k in "abcde"]

    assert await first == "first"
    assert [await task for task in queued] == list("abcde")
    assert len(commits) == 2  # the first's, then one for the five queued meanwhile
    assert [k for k, _ in await rows(database)] == ["a", "b", "c", "d", "e", "first", "warm"]


async def test_each_work_of_a_batch_counts_toward_the_next_checkpoint(
    database: SqliteDatabase,
) -> None:
    """A batch writes the pages of all its works: counted as one commit, a steady queue
    would let the WAL grow a batch's size times past the checkpoint's threshold."""
    await database.run(insert("warm"))
    before = database_file_size(database)

    async with another_process_holding_the_lock(database) as first:
        keys = [f"row-{n:05}" for n in range(CHECKPOINT_EVERY)]
        queued = [asyncio.create_task(database.run(insert(k))) for k in keys]

    assert await first == "first"
    assert await asyncio.gather(*queued) == keys
    for _ in range(100):
        if database_file_size(database) > before:
            break
        await asyncio.sleep(0.02)
    assert database_file_size(database) > before


async def test_a_queued_work_that_fails_is_undone_alone_and_its_caller_told(
    database: SqliteDatabase,
) -> None:
    async def changes_its_mind(tx: Tx) -> None:
        await tx.execute("INSERT INTO t (k, v) VALUES ('mind', 1)")
        raise LookupError("changed its mind")

    async def clashes(tx: Tx) -> None:
        await tx.execute("INSERT INTO t (k, v) VALUES ('clash', 1)")
        await tx.execute("INSERT INTO t (k, v) VALUES ('a', 1)")  # 'a' is taken just before

    works = (insert("a"), changes_its_mind, clashes, insert("b"))
    async with another_process_holding_the_lock(database) as first:
        queued = [asyncio.create_task(database.run(work)) for work in works]

    await first
    outcomes = await asyncio.gather(*queued, return_exceptions=True)
    assert outcomes[0] == "a"
    assert outcomes[3] == "b"
    assert isinstance(outcomes[1], LookupError)
    assert isinstance(outcomes[2], UniqueViolation)
    assert await rows(database) == [("a", 1), ("b", 1), ("first", 1)]


async def test_a_queued_work_whose_caller_has_gone_is_never_run(
    database: SqliteDatabase,
) -> None:
    async with another_process_holding_the_lock(database) as first:
        gone = asyncio.create_task(database.run(insert("gone")))
        stays = asyncio.create_task(database.run(insert("stays")))
        await asyncio.sleep(0.02)
        gone.cancel()

    await first
    assert await stays == "stays"
    assert gone.cancelled()
    assert await rows(database) == [("first", 1), ("stays", 1)]


async def test_a_work_queued_when_the_database_closes_is_answered_not_left_waiting(
    database: SqliteDatabase,
) -> None:
    async with another_process_holding_the_lock(database) as first:
        queued = asyncio.create_task(database.run(insert("late")))
        closing = asyncio.create_task(database.close())  # waits for the run in flight

    await first
    await closing
    # The close came before the queued work's turn: refused, as any run after a close.
    with pytest.raises(StorageUnavailable):
        await asyncio.wait_for(queued, timeout=2)


# Two processes (two workers) writing at once, each with runs queued behind its own: every
# write lands once, whether it ran alone, in a batch, on the loop's thread or the writer's.

_WORKER = """
import asyncio, sys
from pathlib import Path
from infrastructure.persistence.sqlite import SqliteDatabase

async def bump(tx):
    row = await tx.fetchone("SELECT v FROM t WHERE k = 'n'")
    await tx.execute("UPDATE t SET v = $1 WHERE k = 'n'", int(row["v"]) + 1)

async def main():
    db = SqliteDatabase(Path(sys.argv[1]))
    await db.read_key("SELECT 1 AS ready")
    print("ready", flush=True)
    for _ in range(int(sys.argv[2])):
        await asyncio.gather(*(db.run(bump) for _ in range(20)))
    await db.close()

asyncio.run(main())
"""


async def test_two_processes_writing_at_once_lose_no_write(database: SqliteDatabase) -> None:
    await database.run(lambda tx: tx.execute("INSERT INTO t (k, v) VALUES ('n', 0)"))
    other = await asyncio.create_subprocess_exec(
        sys.executable, "-c", _WORKER, str(database.path), "25", stdout=asyncio.subprocess.PIPE
    )
    assert other.stdout is not None
    assert await other.stdout.readline() == b"ready\n"  # both write from here on

    async def bump(tx: Tx) -> None:
        row = await tx.fetchone("SELECT v FROM t WHERE k = 'n'")
        assert row is not None
        await tx.execute("UPDATE t SET v = $1 WHERE k = 'n'", int(row["v"]) + 1)

    for _ in range(25):
        await asyncio.gather(*(database.run(bump) for _ in range(20)))
    assert await other.wait() == 0

    assert await rows(database) == [("n", 1000)]
