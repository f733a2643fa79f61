"""The embedded default: one SQLite file in WAL mode; per process one writer connection (one
transaction at a time: on the event loop's thread when the write lock is free, else on a thread
of its own that waits for it; the writes that queue behind one commit together), WAL
checkpoints on a thread of their own, and reader connections that need no lock: each read is
one statement in autocommit, which WAL gives a consistent snapshot without blocking writers."""

from __future__ import annotations

import asyncio
import logging
import sqlite3
from collections.abc import AsyncIterator, Callable, Coroutine
from concurrent.futures import ThreadPoolExecutor
from contextlib import asynccontextmanager
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Any, TypeVar, cast

import aiosqlite

from domain.errors import StorageUnavailable
from infrastructure.persistence.database import Row, ScriptFailed, Tx
from infrastructure.persistence.private_files import create_private
from infrastructure.persistence.sqlite_statements import (
    BUSY_TIMEOUT_MS,
    LOOP_BUSY_MS,
    WRITER_BUSY_MS,
    Done,
    ReadTx,
    Work,
    Writer,
    WriterTx,
    begin_immediate,
    each_then_commit,
    if_free,
    parameters,
    roll_back,
    run_batch,
    run_script,
    run_statement,
    run_whole,
    then_commit,
    when_free,
)

T = TypeVar("T")
log = logging.getLogger("authgate")


class SqliteDatabase:
    dialect = "sqlite"
    for_update = ""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._writer: Writer | None = None
        self._reader: aiosqlite.Connection | None = None
        self._at_once: sqlite3.Connection | None = None  # see ``read_key``
        self._opening_reader = asyncio.Lock()  # so two first reads open one connection
        self._closed = False
        # Two coroutines' transactions would interleave on the one writer: one at a time.
        self._lock = asyncio.Lock()
        self._queued: list[_Queued] = []  # works that wait for the next batch (``run``)
        self._drainer: asyncio.Task[None] | None = None
        self._checkpoints = Checkpoints(path)

    @asynccontextmanager
    async def transaction(self, *, write: bool = True, replica: bool = False) -> AsyncIterator[Tx]:
        if not write:
            try:
                reader = await self._connect_reader()
            except sqlite3.Error as e:
                raise StorageUnavailable() from e
            try:
                yield ReadTx(reader)
            except sqlite3.Error as e:
                raise StorageUnavailable() from e
            return
        async with self._lock:
            try:
                writer = await self._connect()
                await writer.call(begin_immediate)
            except sqlite3.Error as e:
                raise StorageUnavailable() from e
            try:
                yield WriterTx(writer)
            except BaseException as e:
                await self._rollback(writer)
                if isinstance(e, sqlite3.Error):
                    raise StorageUnavailable() from e
                raise
            try:
                await writer.call(run_statement, "COMMIT")
            except sqlite3.Error as e:
                await self._rollback(writer)
                raise StorageUnavailable() from e
            self._checkpoints.committed()

    async def run(self, work: Callable[[Tx], Coroutine[Any, Any, T]]) -> T:
        """One write transaction, whole, in one step (``work`` may await only its
        statements): on the event loop's thread when the write lock is free, else in one trip
        to the writer's thread, which waits for it. Two processes share the file's one write
        lock, and a lock held across trips back to a busy event loop would leave the other
        waiting.

        While a transaction of this process is in flight (most often one waiting on the
        writer's thread for the other process's lock), the works that come meanwhile queue
        and then commit together: one transaction, each work under a savepoint of its own.
        One after another they took a turn of the event loop each to be handed the lock, and
        the write lock once each, so a queue that formed behind the other process's lock
        drained slowly (the refresh's tail latency)."""
        if self._lock.locked():
            return cast(T, await self._join(work))
        async with self._lock:
            try:
                writer = await self._connect()
                done, result = if_free(writer.connection, partial(then_commit, work=work))
                if not done:
                    result = await writer.call(run_whole, work)
            except sqlite3.Error as e:
                raise StorageUnavailable() from e
            self._checkpoints.committed()
            return cast(T, result)

    async def _join(self, work: Work) -> Any:
        queued = _Queued(work, asyncio.get_running_loop().create_future())
        self._queued.append(queued)
        if self._drainer is None:
            self._drainer = asyncio.create_task(self._drain())
        return await queued.outcome

    async def _drain(self) -> None:
        """Each turn of the lock, every work queued until then, in one transaction."""
        try:
            while self._queued:
                async with self._lock:
                    batch, self._queued = self._queued, []
                    await self._run_batch([q for q in batch if not q.outcome.done()])
        finally:
            self._drainer = None
            for queued in self._queued:  # only if this task itself was cancelled
                queued.outcome.cancel()
            self._queued = []

    async def _run_batch(self, batch: list[_Queued]) -> None:
        if not batch:
            return
        works = [queued.work for queued in batch]
        try:
            writer = await self._connect()
            done, outcomes = if_free(writer.connection, partial(each_then_commit, works=works))
            if not done:
                outcomes = await writer.call(run_batch, works)
        except BaseException as e:
            for queued in batch:
                _fail(queued.outcome, e)
            if not isinstance(e, Exception):
                raise
            return
        self._checkpoints.committed(len(works))
        for queued, outcome in zip(batch, outcomes or (), strict=True):
            if isinstance(outcome, Done):
                _settle(queued.outcome, outcome.result)
            else:
                _fail(queued.outcome, outcome.error)

    async def execute_script(self, script: str) -> None:
        async with self._lock:
            try:
                writer = await self._connect()
            except sqlite3.Error as e:
                raise StorageUnavailable() from e
            try:
                # executescript COMMITs whatever is open first, so the script brings its own
                # transaction; on a failure it stops there and the rollback takes it all back.
                await writer.call(run_script, f"BEGIN IMMEDIATE;\n{script}\n;\nCOMMIT;")
            except sqlite3.Error as e:
                await self._rollback(writer)
                raise ScriptFailed(str(e)) from e

    async def lock_key(self, tx: Tx, key: str) -> None:
        return None  # BEGIN IMMEDIATE already holds the database's write lock

    async def read_key(self, sql: str, *args: object) -> Row | None:
        """On the event loop's own thread, no hand-off to another (every process reads the
        one file, so a write of any worker is seen at its next read). A WAL reader never waits for a
        writer, so this costs microseconds; should it meet a lock all the same (a checkpoint
        resetting the log), it gives up after a few milliseconds rather than stall the loop:
        ``StorageUnavailable``, as any read that fails."""
        if self._closed:
            raise StorageUnavailable()
        try:
            if self._at_once is None:
                create_private(self.path)
                connection = sqlite3.connect(
                    self.path, isolation_level=None, check_same_thread=False
                )
                connection.row_factory = sqlite3.Row
                connection.execute(f"PRAGMA busy_timeout={LOOP_BUSY_MS}")
                connection.execute("PRAGMA query_only=ON")
                self._at_once = connection
            row = self._at_once.execute(sql, parameters(args)).fetchone()
        except (sqlite3.Error, OSError) as e:
            raise StorageUnavailable() from e
        return None if row is None else dict(row)

    async def ping(self) -> None:
        async with self.transaction(write=False) as tx:
            await tx.fetchone("SELECT 1 AS ok")

    async def close(self) -> None:
        """Waits for the write in flight; nothing opens a connection afterwards (an open
        connection keeps its thread, and the process, alive)."""
        async with self._lock, self._opening_reader:
            self._closed = True
            reader, self._reader = self._reader, None
            at_once, self._at_once = self._at_once, None
            if at_once is not None:
                at_once.close()
            await self._disconnect()
            await self._checkpoints.close()
            if reader is not None:
                await reader.close()

    async def _disconnect(self) -> None:
        writer, self._writer = self._writer, None
        if writer is not None:
            await writer.close()

    async def _connect(self) -> Writer:
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
            self._writer = Writer(connection, thread)
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
            for pragma in (*_PRAGMAS, *_WRITER_PRAGMAS):
                # Turning a new file to WAL takes its exclusive lock; a second process doing
                # the same at that moment gets "locked" at once (no busy wait for a lock
                # upgrade that could deadlock), so it tries again.
                when_free(partial(connection.execute, pragma))
        except BaseException:
            connection.close()
            raise
        return connection

    async def _prepare_file(self) -> None:
        try:
            await asyncio.to_thread(create_private, self.path)
        except OSError as e:
            raise StorageUnavailable() from e

    async def _rollback(self, writer: Writer) -> None:
        try:
            await writer.call(roll_back)
        except sqlite3.Error:
            await self._disconnect()  # under the lock already; the next transaction reconnects


@dataclass(frozen=True, slots=True)
class _Queued:
    work: Work
    outcome: asyncio.Future[Any]


def _settle(outcome: asyncio.Future[Any], result: Any) -> None:
    if not outcome.done():  # its caller may have gone (cancelled)
        outcome.set_result(result)


def _fail(outcome: asyncio.Future[Any], error: BaseException) -> None:
    if outcome.done():
        return
    if isinstance(error, asyncio.CancelledError):
        outcome.cancel()
    elif isinstance(error, (sqlite3.Error, StorageUnavailable)):
        # A new error per caller, each with its own traceback, from the one raised.
        failure = StorageUnavailable()
        failure.__cause__ = error
        outcome.set_exception(failure)
    else:
        outcome.set_exception(error)


WRITER_THREAD = "sqlite-writer"
CHECKPOINT_THREAD = "sqlite-checkpoint"
# About SQLite's own default of 1,000 pages: a refresh or sign-in writes a handful.
CHECKPOINT_EVERY = 200


class Checkpoints:
    """WAL checkpoints, every ``every`` works committed by this process (a batch counts each
    of its works: it writes the pages of all of them), on a thread and connection of their
    own. The writer's connection never runs one: SQLite's automatic checkpoint runs inside
    the COMMIT that crosses its threshold, copying pages and syncing the file, which on the
    event loop's thread would stall every request in flight. A PASSIVE checkpoint waits for
    nobody; what it could not copy the next one does."""

    def __init__(self, path: Path, every: int = CHECKPOINT_EVERY) -> None:
        self._path = path
        self._every = every
        self._commits = 0
        self._thread: ThreadPoolExecutor | None = None
        self._connection: sqlite3.Connection | None = None
        self._running: asyncio.Future[None] | None = None

    def committed(self, works: int = 1) -> None:
        self._commits += works
        if self._commits < self._every or (self._running and not self._running.done()):
            return
        self._commits = 0
        if self._thread is None:
            self._thread = ThreadPoolExecutor(1, thread_name_prefix=CHECKPOINT_THREAD)
        self._running = asyncio.get_running_loop().run_in_executor(self._thread, self._checkpoint)

    def _checkpoint(self) -> None:
        try:
            if self._connection is None:
                self._connection = sqlite3.connect(
                    self._path, isolation_level=None, check_same_thread=False
                )
            self._connection.execute("PRAGMA wal_checkpoint(PASSIVE)")
        except sqlite3.Error:
            log.warning("sqlite_checkpoint_failed", exc_info=True)  # the next one tries

    async def close(self) -> None:
        thread, self._thread = self._thread, None
        if thread is None:
            return
        if self._running is not None:
            await asyncio.wait([self._running])
        connection, self._connection = self._connection, None
        if connection is not None:
            await asyncio.get_running_loop().run_in_executor(thread, connection.close)
        thread.shutdown(wait=False)


_PRAGMAS = (
    f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}",  # first: the next ones may wait
    "PRAGMA journal_mode=WAL",
    "PRAGMA synchronous=NORMAL",
)
# The writer's connection only: ``Checkpoints`` runs them; the busy timeout last.
_WRITER_PRAGMAS = (
    "PRAGMA foreign_keys=ON",
    "PRAGMA wal_autocheckpoint=0",
    f"PRAGMA busy_timeout={WRITER_BUSY_MS}",
)
