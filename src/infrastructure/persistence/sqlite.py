"""The embedded default: one SQLite file in WAL mode; per process one writer connection
(one transaction at a time) and one reader connection that needs no lock: each read is one
statement in autocommit, which WAL gives a consistent snapshot without blocking writers."""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import AsyncIterator, Iterator, Sequence
from contextlib import asynccontextmanager, contextmanager
from datetime import UTC, datetime
from pathlib import Path

import aiosqlite

from domain.errors import StorageUnavailable
from infrastructure.persistence.database import Row, ScriptFailed, Tx, UniqueViolation
from infrastructure.persistence.private_files import create_private

_BUSY_TIMEOUT_MS = 5000


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


class _SqliteTx(Tx):
    def __init__(self, connection: aiosqlite.Connection) -> None:
        self._connection = connection

    async def fetchone(self, sql: str, *args: object) -> Row | None:
        rows = await self.fetchall(sql, *args)
        return rows[0] if rows else None

    async def fetchall(self, sql: str, *args: object) -> Sequence[Row]:
        with _unique_violations():
            async with self._connection.execute(sql, _parameters(args)) as cursor:
                rows = await cursor.fetchall()
        return [dict(row) for row in rows]

    async def execute(self, sql: str, *args: object) -> int:
        with _unique_violations():
            async with self._connection.execute(sql, _parameters(args)) as cursor:
                return cursor.rowcount


class _SqliteReadTx(_SqliteTx):
    """One statement, one trip to the connection's thread (``execute_fetchall``)."""

    async def fetchall(self, sql: str, *args: object) -> Sequence[Row]:
        rows = await self._connection.execute_fetchall(sql, _parameters(args))
        return [dict(row) for row in rows]


class SqliteDatabase:
    dialect = "sqlite"
    for_update = ""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._connection: aiosqlite.Connection | None = None
        self._reader: aiosqlite.Connection | None = None
        self._opening_reader = asyncio.Lock()  # so two first reads open one connection
        self._closed = False
        # aiosqlite runs one connection's statements in order, but two coroutines'
        # transactions would interleave on it: one at a time per process.
        self._lock = asyncio.Lock()

    @asynccontextmanager
    async def transaction(self, *, write: bool = True) -> AsyncIterator[Tx]:
        if not write:
            try:
                reader = await self._connect_reader()
            except sqlite3.Error as e:
                raise StorageUnavailable() from e
            try:
                yield _SqliteReadTx(reader)
            except sqlite3.Error as e:
                raise StorageUnavailable() from e
            return
        async with self._lock:
            try:
                connection = await self._connect()
                await connection.execute("BEGIN IMMEDIATE" if write else "BEGIN")
            except sqlite3.Error as e:
                raise StorageUnavailable() from e
            try:
                yield _SqliteTx(connection)
            except BaseException as e:
                await self._rollback(connection)
                if isinstance(e, sqlite3.Error):
                    raise StorageUnavailable() from e
                raise
            try:
                await connection.commit()
            except sqlite3.Error as e:
                await self._rollback(connection)
                raise StorageUnavailable() from e

    async def execute_script(self, script: str) -> None:
        async with self._lock:
            try:
                connection = await self._connect()
            except sqlite3.Error as e:
                raise StorageUnavailable() from e
            try:
                # executescript COMMITs whatever is open first, so the script brings its own
                # transaction; on a failure it stops there and the rollback takes it all back.
                await connection.executescript(f"BEGIN IMMEDIATE;\n{script}\n;\nCOMMIT;")
            except sqlite3.Error as e:
                await self._rollback(connection)
                raise ScriptFailed(str(e)) from e

    async def lock_key(self, tx: Tx, key: str) -> None:
        return None  # BEGIN IMMEDIATE already holds the database's write lock

    async def ping(self) -> None:
        async with self.transaction(write=False) as tx:
            await tx.fetchone("SELECT 1 AS ok")

    async def close(self) -> None:
        """Waits for the write in flight; nothing opens a connection afterwards (an aiosqlite
        connection left open keeps its non-daemon thread, and the process, alive)."""
        async with self._lock, self._opening_reader:
            self._closed = True
            reader, self._reader = self._reader, None
            await self._disconnect()
            if reader is not None:
                await reader.close()

    async def _disconnect(self) -> None:
        connection, self._connection = self._connection, None
        if connection is not None:
            await connection.close()

    async def _connect(self) -> aiosqlite.Connection:
        if self._closed:
            raise StorageUnavailable()
        if self._connection is None:
            self._connection = await self._open("PRAGMA foreign_keys=ON")
        return self._connection

    async def _connect_reader(self) -> aiosqlite.Connection:
        if self._reader is None:
            async with self._opening_reader:
                if self._closed:
                    raise StorageUnavailable()
                if self._reader is None:
                    self._reader = await self._open("PRAGMA query_only=ON")
        return self._reader

    async def _open(self, role_pragma: str) -> aiosqlite.Connection:
        try:
            await asyncio.to_thread(create_private, self.path)
        except OSError as e:
            raise StorageUnavailable() from e
        connection = await aiosqlite.connect(self.path, isolation_level=None)
        try:
            connection.row_factory = sqlite3.Row
            for pragma in (
                f"PRAGMA busy_timeout={_BUSY_TIMEOUT_MS}",  # first: the next ones may wait
                "PRAGMA journal_mode=WAL",
                "PRAGMA synchronous=NORMAL",
                role_pragma,
            ):
                await connection.execute(pragma)
        except BaseException:
            await connection.close()
            raise
        return connection

    async def _rollback(self, connection: aiosqlite.Connection) -> None:
        try:
            await connection.rollback()
        except sqlite3.Error:
            await self._disconnect()  # under the lock already; the next transaction reconnects
