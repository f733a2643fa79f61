"""The embedded default: one SQLite file in WAL mode; per process one writer connection on a
thread of its own (one transaction at a time) and one reader connection that needs no lock:
each read is one statement in autocommit, which WAL gives a consistent snapshot without
blocking writers."""

from __future__ import annotations

import asyncio
import random
import sqlite3
import time
from collections.abc import AsyncIterator, Callable, Coroutine, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import asynccontextmanager, contextmanager
from datetime import UTC, datetime
from functools import partial
from pathlib import Path
from typing import Any, TypeVar, cast

import aiosqlite

from domain.errors import StorageUnavailable
from infrastructure.persistence.database import Row, ScriptFailed, Tx, UniqueViolation
from infrastructure.persistence.private_files import create_private

_BUSY_TIMEOUT_MS = 5000
T = TypeVar("T")


def _bind(value: object) -> object:
    # One fixed-width UTC format, so timestamps compare correctly as text.
    if isinstance(value, datetime):
        return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%f+00:00")
    return value


def _parameters(args: tuple[object, ...]) -> dict[str, object]:
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


def _fetchall(connection: sqlite3.Connection, sql: str, args: tuple[object, ...]) -> list[Row]:
    with _unique_violations():
        return [dict(row) for row in connection.execute(sql, _parameters(args)).fetchall()]


def _execute(connection: sqlite3.Connection, sql: str, args: tuple[object, ...]) -> int:
    with _unique_violations():
        return connection.execute(sql, _parameters(args)).rowcount


class _DirectTx(Tx):
    """Statements run at once on the calling thread: the writer's own, inside ``run``."""

    def __init__(self, connection: sqlite3.Connection) -> None:
        self._connection = connection

    async def fetchone(self, sql: str, *args: object) -> Row | None:
        rows = _fetchall(self._connection, sql, args)
        return rows[0] if rows else None

    async def fetchall(self, sql: str, *args: object) -> Sequence[Row]:
        return _fetchall(self._connection, sql, args)

    async def execute(self, sql: str, *args: object) -> int:
        return _execute(self._connection, sql, args)


class _WriterTx(Tx):
    """Each statement one trip to the writer's thread (``transaction``)."""

    def __init__(self, writer: _Writer) -> None:
        self._writer = writer

    async def fetchone(self, sql: str, *args: object) -> Row | None:
        rows = await self.fetchall(sql, *args)
        return rows[0] if rows else None

    async def fetchall(self, sql: str, *args: object) -> Sequence[Row]:
        return await self._writer.call(_fetchall, sql, args)

    async def execute(self, sql: str, *args: object) -> int:
        return await self._writer.call(_execute, sql, args)


class _ReadTx(Tx):
    """One statement, one trip to the reader connection's thread (``execute_fetchall``)."""

    def __init__(self, connection: aiosqlite.Connection) -> None:
        self._connection = connection

    async def fetchone(self, sql: str, *args: object) -> Row | None:
        rows = await self.fetchall(sql, *args)
        return rows[0] if rows else None

    async def fetchall(self, sql: str, *args: object) -> Sequence[Row]:
        rows = await self._connection.execute_fetchall(sql, _parameters(args))
        return [dict(row) for row in rows]

    async def execute(self, sql: str, *args: object) -> int:
        raise sqlite3.OperationalError("a read transaction writes nothing")


class _Writer:
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


def _run_whole(connection: sqlite3.Connection, work: Callable[[Tx], Coroutine[Any, Any, T]]) -> T:
    """On the writer's thread: BEGIN IMMEDIATE, the work's statements, COMMIT, without a trip
    back to the event loop, so the database's write lock is held only while SQLite works."""
    _begin_immediate(connection)
    try:
        result = _complete(work(_DirectTx(connection)))
        connection.execute("COMMIT")
    except BaseException:
        if connection.in_transaction:
            connection.execute("ROLLBACK")
        raise
    return result


def _complete(coroutine: Coroutine[Any, Any, T]) -> T:
    try:
        coroutine.send(None)
    except StopIteration as done:
        return cast(T, done.value)
    coroutine.close()
    raise RuntimeError("a transaction run whole may await only its own statements")


class SqliteDatabase:
    dialect = "sqlite"
    for_update = ""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._writer: _Writer | None = None
        self._reader: aiosqlite.Connection | None = None
        self._opening_reader = asyncio.Lock()  # so two first reads open one connection
        self._closed = False
        # Two coroutines' transactions would interleave on the one writer: one at a time.
        self._lock = asyncio.Lock()

    @asynccontextmanager
    async def transaction(self, *, write: bool = True, replica: bool = False) -> AsyncIterator[Tx]:
        if not write:
            try:
                reader = await self._connect_reader()
            except sqlite3.Error as e:
                raise StorageUnavailable() from e
            try:
                yield _ReadTx(reader)
            except sqlite3.Error as e:
                raise StorageUnavailable() from e
            return
        async with self._lock:
            try:
                writer = await self._connect()
                await writer.call(_begin_immediate)
            except sqlite3.Error as e:
                raise StorageUnavailable() from e
            try:
                yield _WriterTx(writer)
            except BaseException as e:
                await self._rollback(writer)
                if isinstance(e, sqlite3.Error):
                    raise StorageUnavailable() from e
                raise
            try:
                await writer.call(_statement, "COMMIT")
            except sqlite3.Error as e:
                await self._rollback(writer)
                raise StorageUnavailable() from e

    async def run(self, work: Callable[[Tx], Coroutine[Any, Any, T]]) -> T:
        """One write transaction, whole, in one trip to the writer's thread (``work`` may
        await only its statements). Two processes share the file's one write lock, and a
        lock held across trips back to a busy event loop would leave the other waiting."""
        async with self._lock:
            try:
                writer = await self._connect()
                return await writer.call(_run_whole, work)
            except sqlite3.Error as e:
                raise StorageUnavailable() from e

    async def execute_script(self, script: str) -> None:
        async with self._lock:
            try:
                writer = await self._connect()
            except sqlite3.Error as e:
                raise StorageUnavailable() from e
            try:
                # executescript COMMITs whatever is open first, so the script brings its own
                # transaction; on a failure it stops there and the rollback takes it all back.
                await writer.call(_script, f"BEGIN IMMEDIATE;\n{script}\n;\nCOMMIT;")
            except sqlite3.Error as e:
                await self._rollback(writer)
                raise ScriptFailed(str(e)) from e

    async def lock_key(self, tx: Tx, key: str) -> None:
        return None  # BEGIN IMMEDIATE already holds the database's write lock

    async def ping(self) -> None:
        async with self.transaction(write=False) as tx:
            await tx.fetchone("SELECT 1 AS ok")

    async def close(self) -> None:
        """Waits for the write in flight; nothing opens a connection afterwards (an open
        connection keeps its thread, and the process, alive)."""
        async with self._lock, self._opening_reader:
            self._closed = True
            reader, self._reader = self._reader, None
            await self._disconnect()
            if reader is not None:
                await reader.close()

    async def _disconnect(self) -> None:
        writer, self._writer = self._writer, None
        if writer is not None:
            await writer.close()

    async def _connect(self) -> _Writer:
        if self._closed:
            raise StorageUnavailable()
        if self._writer is None:
            thread = ThreadPoolExecutor(1, thread_name_prefix=WRITER_THREAD)
            loop = asyncio.get_running_loop()
            try:
                connection = await loop.run_in_executor(thread, self._open_writer)
            except BaseException as e:
                thread.shutdown(wait=False)
                if isinstance(e, OSError):
                    raise StorageUnavailable() from e
                raise
            self._writer = _Writer(connection, thread)
        return self._writer

    async def _connect_reader(self) -> aiosqlite.Connection:
        if self._reader is None:
            async with self._opening_reader:
                if self._closed:
                    raise StorageUnavailable()
                if self._reader is None:
                    await self._prepare_file()
                    reader = await aiosqlite.connect(self.path, isolation_level=None)
                    try:
                        reader.row_factory = sqlite3.Row
                        for pragma in (*_PRAGMAS, "PRAGMA query_only=ON"):
                            await reader.execute(pragma)
                    except BaseException:
                        await reader.close()
                        raise
                    self._reader = reader
        return self._reader

    def _open_writer(self) -> sqlite3.Connection:
        create_private(self.path)
        # The connection lives and dies on the writer's thread; the flag only lets
        # ``sqlite3`` accept that this thread is not the one that created the executor.
        connection = sqlite3.connect(self.path, isolation_level=None, check_same_thread=False)
        try:
            connection.row_factory = sqlite3.Row
            for pragma in (*_PRAGMAS, "PRAGMA foreign_keys=ON"):
                # Turning a new file to WAL takes its exclusive lock; a second process doing
                # the same at that moment gets "locked" at once (no busy wait for a lock
                # upgrade that could deadlock), so it tries again.
                _when_free(partial(connection.execute, pragma))
        except BaseException:
            connection.close()
            raise
        return connection

    async def _prepare_file(self) -> None:
        try:
            await asyncio.to_thread(create_private, self.path)
        except OSError as e:
            raise StorageUnavailable() from e

    async def _rollback(self, writer: _Writer) -> None:
        try:
            await writer.call(_rollback)
        except sqlite3.Error:
            await self._disconnect()  # under the lock already; the next transaction reconnects


WRITER_THREAD = "sqlite-writer"
_PRAGMAS = (
    f"PRAGMA busy_timeout={_BUSY_TIMEOUT_MS}",  # first: the next ones may wait
    "PRAGMA journal_mode=WAL",
    "PRAGMA synchronous=NORMAL",
)


def _statement(connection: sqlite3.Connection, sql: str) -> None:
    connection.execute(sql)


def _begin_immediate(connection: sqlite3.Connection) -> None:
    """Take the database's write lock, polling every fraction of a millisecond. SQLite's own
    busy handler backs off to 100 ms sleeps, so under steady writes from another process
    one writer starves while the other holds the lock for a fraction of a millisecond."""
    connection.execute("PRAGMA busy_timeout=0")
    try:
        _when_free(lambda: connection.execute("BEGIN IMMEDIATE"))
    finally:
        connection.execute(f"PRAGMA busy_timeout={_BUSY_TIMEOUT_MS}")


def _when_free(statement: Callable[[], object]) -> None:
    """Run ``statement``, again every 50-250 µs while the database is busy, for at most the
    busy timeout."""
    deadline = time.monotonic() + _BUSY_TIMEOUT_MS / 1000
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


def _script(connection: sqlite3.Connection, script: str) -> None:
    connection.executescript(script)


def _rollback(connection: sqlite3.Connection) -> None:
    if connection.in_transaction:
        connection.execute("ROLLBACK")
