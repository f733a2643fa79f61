"""SQLite's side of a transaction: statements on the writer's thread or the reader connection,
the write lock taken by polling, and the values bound the way SQLite compares them."""

from __future__ import annotations

import asyncio
import random
import sqlite3
import time
from collections.abc import Callable, Coroutine, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, TypeVar, cast

import aiosqlite

from infrastructure.persistence.database import Row, Tx, UniqueViolation

T = TypeVar("T")

# A transaction's work: its statements on the ``Tx`` it is given, awaiting nothing else.
Work = Callable[[Tx], Coroutine[Any, Any, Any]]


@dataclass(frozen=True, slots=True)
class Done:
    result: Any


@dataclass(frozen=True, slots=True)
class Failed:
    error: Exception


Outcome = Done | Failed  # of one work in a batch (``each_then_commit``)


BUSY_TIMEOUT_MS = 5000


def _bind(value: object) -> object:
    # One fixed-width UTC format, so timestamps compare correctly as text:
    # 2026-12-07T01:57:27.000123+00:00 (isoformat writes it for a UTC time at a fifth of
    # strftime's cost; every denylist read binds one).
    if isinstance(value, datetime):
        if value.tzinfo is not UTC:
            value = value.astimezone(UTC)
        return value.isoformat(timespec="microseconds")
    return value


def parameters(args: tuple[object, ...]) -> dict[str, object]:
    # SQLite reads ``$1`` as the named parameter "1": bind by name, never by position
    # (a sequence for named placeholders is deprecated since Python 3.12, refused in 3.14).
    return {str(number): _bind(arg) for number, arg in enumerate(args, start=1)}


@contextmanager
def _unique_violations() -> Iterator[None]:
    try:
        yield
    except sqlite3.IntegrityError as e:
        if "UNIQUE" in str(e) or "PRIMARY KEY" in str(e):
            raise UniqueViolation(str(e)) from e
        raise


def fetchall_on(connection: sqlite3.Connection, sql: str, args: tuple[object, ...]) -> list[Row]:
    with _unique_violations():
        return [dict(row) for row in connection.execute(sql, parameters(args)).fetchall()]


def execute_on(connection: sqlite3.Connection, sql: str, args: tuple[object, ...]) -> int:
    with _unique_violations():
        return connection.execute(sql, parameters(args)).rowcount


class DirectTx(Tx):
    """Statements run at once on the calling thread: the writer's own, inside ``run``."""

    def __init__(self, connection: sqlite3.Connection) -> None:
        self._connection = connection

    async def fetchone(self, sql: str, *args: object) -> Row | None:
        rows = fetchall_on(self._connection, sql, args)
        return rows[0] if rows else None

    async def fetchall(self, sql: str, *args: object) -> Sequence[Row]:
        return fetchall_on(self._connection, sql, args)

    async def execute(self, sql: str, *args: object) -> int:
        return execute_on(self._connection, sql, args)


class WriterTx(Tx):
    """Each statement one trip to the writer's thread (``transaction``)."""

    def __init__(self, writer: Writer) -> None:
        self._writer = writer

    async def fetchone(self, sql: str, *args: object) -> Row | None:
        rows = await self.fetchall(sql, *args)
        return rows[0] if rows else None

    async def fetchall(self, sql: str, *args: object) -> Sequence[Row]:
        return await self._writer.call(fetchall_on, sql, args)

    async def execute(self, sql: str, *args: object) -> int:
        return await self._writer.call(execute_on, sql, args)


class ReadTx(Tx):
    """One statement, one trip to the reader connection's thread (``execute_fetchall``)."""

    def __init__(self, connection: aiosqlite.Connection) -> None:
        self._connection = connection

    async def fetchone(self, sql: str, *args: object) -> Row | None:
        rows = await self.fetchall(sql, *args)
        return rows[0] if rows else None

    async def fetchall(self, sql: str, *args: object) -> Sequence[Row]:
        rows = await self._connection.execute_fetchall(sql, parameters(args))
        return [dict(row) for row in rows]

    async def execute(self, sql: str, *args: object) -> int:
        raise sqlite3.OperationalError("a read transaction writes nothing")


class Writer:
    """The one writing connection of this process, owned by one thread of its own."""

    def __init__(self, connection: sqlite3.Connection, thread: ThreadPoolExecutor) -> None:
        self.connection = connection
        self._thread = thread

    async def call(self, work: Callable[..., T], *args: object) -> T:
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._thread, work, self.connection, *args)

    async def close(self) -> None:
        try:
            await self.call(sqlite3.Connection.close)
        finally:
            self._thread.shutdown(wait=False)


def run_whole(connection: sqlite3.Connection, work: Callable[[Tx], Coroutine[Any, Any, T]]) -> T:
    """On the writer's thread: BEGIN IMMEDIATE, the work's statements, COMMIT, without a trip
    back to the event loop, so the database's write lock is held only while SQLite works."""
    begin_immediate(connection)
    return then_commit(connection, work)


def run_batch(connection: sqlite3.Connection, works: Sequence[Work]) -> list[Outcome]:
    """``run_whole`` for several works in one transaction (``each_then_commit``)."""
    begin_immediate(connection)
    return each_then_commit(connection, works)


def if_free(
    connection: sqlite3.Connection, finish: Callable[[sqlite3.Connection], T]
) -> tuple[bool, T | None]:
    """On the event loop's own thread: BEGIN IMMEDIATE and ``finish`` (``then_commit`` or
    ``each_then_commit``) if the write lock is free this instant, else ``(False, None)`` and
    nothing done (the writer's thread then waits for it).

    A hand-off to the writer's thread and back wakes two sleeping threads, which costs a
    sign-in more CPU than its statements do. Appending to the WAL is a write to the page
    cache (synchronous=NORMAL syncs only at a checkpoint, and the checkpoints run on a thread
    of their own: ``Checkpoints``). The writer's connection never waits for a lock
    (``WRITER_BUSY_MS``), so nothing here stalls the loop."""
    try:
        connection.execute("BEGIN IMMEDIATE")
    except sqlite3.OperationalError as e:
        if e.sqlite_errorcode & 0xFF in _BUSY:
            return False, None
        raise
    return True, finish(connection)


# The longest a read on the event loop's thread waits for a lock (``read_key``).
LOOP_BUSY_MS = 5
# The writer's connection's busy timeout, set once when it opens: its BEGIN IMMEDIATE is
# polled (``when_free``, ``if_free``), and once it holds the write lock no statement of the
# transaction waits for another connection (WAL: readers never block the writer, and
# SQLite's automatic checkpoint is off, ``Checkpoints``). Set around each transaction
# instead, it cost three statements each: an eighth of a sign-in's time in SQLite.
WRITER_BUSY_MS = 0


def then_commit(connection: sqlite3.Connection, work: Callable[[Tx], Coroutine[Any, Any, T]]) -> T:
    """The work's statements in the transaction just begun, then COMMIT; any failure rolls
    it all back."""
    try:
        result = _complete(work(DirectTx(connection)))
        connection.execute("COMMIT")
    except BaseException:
        if connection.in_transaction:
            connection.execute("ROLLBACK")
        raise
    return result


def each_then_commit(connection: sqlite3.Connection, works: Sequence[Work]) -> list[Outcome]:
    """Several works' statements in the transaction just begun, each under a savepoint of
    its own, then one COMMIT: a work that fails is undone alone (its outcome the error), the
    others commit. Anything else failing (a savepoint, the COMMIT) rolls it all back."""
    outcomes: list[Outcome] = []
    try:
        for work in works:
            connection.execute("SAVEPOINT work")
            try:
                outcomes.append(Done(_complete(work(DirectTx(connection)))))
            except Exception as e:
                connection.execute("ROLLBACK TO work")
                outcomes.append(Failed(e))
            connection.execute("RELEASE work")
        connection.execute("COMMIT")
    except BaseException:
        if connection.in_transaction:
            connection.execute("ROLLBACK")
        raise
    return outcomes


def _complete(coroutine: Coroutine[Any, Any, T]) -> T:
    try:
        coroutine.send(None)
    except StopIteration as done:
        return cast(T, done.value)
    coroutine.close()
    raise RuntimeError("a transaction run whole may await only its own statements")


def run_statement(connection: sqlite3.Connection, sql: str) -> None:
    connection.execute(sql)


def begin_immediate(connection: sqlite3.Connection) -> None:
    """Take the database's write lock, polling every fraction of a millisecond. SQLite's own
    busy handler backs off to 100 ms sleeps, so under steady writes from another process
    one writer starves while the other holds the lock for a fraction of a millisecond."""
    when_free(lambda: connection.execute("BEGIN IMMEDIATE"))


def when_free(statement: Callable[[], object]) -> None:
    """Run ``statement``, again every 50-250 µs while the database is busy, for at most the
    busy timeout."""
    deadline = time.monotonic() + BUSY_TIMEOUT_MS / 1000
    while True:
        try:
            statement()
            return
        except sqlite3.OperationalError as e:
            # The primary code: SQLite reports extended ones (SQLITE_BUSY_RECOVERY while
            # another connection recovers or switches the WAL, SQLITE_BUSY_SNAPSHOT, ...).
            if e.sqlite_errorcode & 0xFF not in _BUSY or time.monotonic() > deadline:
                raise
            time.sleep(random.uniform(50e-6, 250e-6))


_BUSY = (sqlite3.SQLITE_BUSY, sqlite3.SQLITE_LOCKED)


def run_script(connection: sqlite3.Connection, script: str) -> None:
    """A script on the writer's connection: its own BEGIN IMMEDIATE waits for the lock as
    SQLite waits (a migration, rare), not polled."""
    connection.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}")
    try:
        connection.executescript(script)
    finally:
        connection.execute(f"PRAGMA busy_timeout={WRITER_BUSY_MS}")


def roll_back(connection: sqlite3.Connection) -> None:
    if connection.in_transaction:
        connection.execute("ROLLBACK")
