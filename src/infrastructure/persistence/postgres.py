"""PostgreSQL through an asyncpg pool, opened lazily so a late database is no crash."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable, Coroutine, Iterator, Sequence
from contextlib import asynccontextmanager, contextmanager
from typing import Any, TypeAlias, TypeVar

import asyncpg

from domain.errors import StorageUnavailable
from infrastructure.persistence.database import Row, ScriptFailed, Tx, UniqueViolation

T = TypeVar("T")
_Connection: TypeAlias = "asyncpg.pool.PoolConnectionProxy[asyncpg.Record]"
_DRIVER_ERRORS = (asyncpg.PostgresError, asyncpg.InterfaceError, OSError, TimeoutError)
# A transaction, all of it, may take the statement timeout and this much more: the server
# ends a statement at the timeout, the client gives up a second later.
DEADLINE_MARGIN = 1.0


@contextmanager
def _unique_violations() -> Iterator[None]:
    try:
        yield
    except asyncpg.UniqueViolationError as e:
        raise UniqueViolation(str(e)) from e


class _PostgresTx(Tx):
    def __init__(self, connection: _Connection) -> None:
        self._connection = connection

    async def fetchone(self, sql: str, *args: object) -> Row | None:
        with _unique_violations():
            row = await self._connection.fetchrow(sql, *args)
        return dict(row) if row is not None else None

    async def fetchall(self, sql: str, *args: object) -> Sequence[Row]:
        with _unique_violations():
            rows = await self._connection.fetch(sql, *args)
        return [dict(row) for row in rows]

    async def execute(self, sql: str, *args: object) -> int:
        with _unique_violations():
            status = await self._connection.execute(sql, *args)
        count = status.rsplit(" ", 1)[-1]
        return int(count) if count.isdigit() else 0


class PostgresDatabase:
    """``read_dsn``: a replica that serves the reads asked for with ``replica=True`` (lists
    that may lag by the replication delay); while it cannot be reached they go to the
    primary. Every other read, and every write, goes to the primary."""

    dialect = "postgres"
    for_update = " FOR UPDATE"

    def __init__(
        self,
        dsn: str,
        *,
        max_size: int = 10,
        timeout: float = 5.0,
        statement_timeout: float = 5.0,
        read_dsn: str | None = None,
    ) -> None:
        self._primary = _Pool(dsn, max_size, timeout, statement_timeout)
        self._replica = _Pool(read_dsn, max_size, timeout, statement_timeout) if read_dsn else None
        self._deadline = statement_timeout + DEADLINE_MARGIN

    @asynccontextmanager
    async def transaction(self, *, write: bool = True, replica: bool = False) -> AsyncIterator[Tx]:
        async with (
            self._connection(replica=replica and not write) as connection,
            connection.transaction(readonly=not write),
        ):
            yield _PostgresTx(connection)

    @asynccontextmanager
    async def _connection(self, *, replica: bool) -> AsyncIterator[_Connection]:
        """One deadline for all of it: a connection, the statements, commit or rollback and
        release, whatever the server does (refuses, resets, accepts and stays silent, answers
        slowly). A connection still busy at the deadline is closed, not rolled back (that
        would wait as long again): the server rolls back a transaction that loses its
        connection."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self._deadline
        try:
            async with asyncio.timeout_at(deadline):
                source, connection = await self._acquire(replica=replica)
        except TimeoutError:
            raise StorageUnavailable() from self._late("no connection")
        except _DRIVER_ERRORS as e:
            raise StorageUnavailable() from e
        overdue = loop.call_at(deadline, connection.terminate)
        try:
            yield connection
        except _DRIVER_ERRORS as e:
            late = isinstance(e, TimeoutError) or loop.time() >= deadline
            raise StorageUnavailable() from (self._late("transaction not done") if late else e)
        finally:
            overdue.cancel()
            await source.release(connection)

    def _late(self, what: str) -> TimeoutError:
        """A timeout with words for the log (asyncio's and asyncpg's have none)."""
        return TimeoutError(f"PostgreSQL: {what} within {self._deadline:g} s")

    async def _acquire(self, *, replica: bool) -> tuple[_Pool, _Connection]:
        if replica and self._replica is not None:
            try:
                # Half the deadline at most: the primary answers while the replica is away.
                async with asyncio.timeout(self._deadline / 2):
                    return self._replica, await self._replica.acquire()
            except _DRIVER_ERRORS:
                pass
        return self._primary, await self._primary.acquire()

    async def run(self, work: Callable[[Tx], Coroutine[Any, Any, T]]) -> T:
        async with self.transaction() as tx:
            return await work(tx)

    async def execute_script(self, script: str) -> None:
        try:
            connection = await self._primary.acquire()
            try:
                try:
                    async with connection.transaction():
                        # Without arguments asyncpg sends the simple query protocol, which
                        # takes several statements at once; the server parses them.
                        await connection.execute(script)
                except asyncpg.PostgresError as e:
                    raise ScriptFailed(str(e)) from e
            finally:
                await self._primary.release(connection)
        except _DRIVER_ERRORS as e:
            raise StorageUnavailable() from e

    async def lock_key(self, tx: Tx, key: str) -> None:
        await tx.fetchone("SELECT pg_advisory_xact_lock(hashtextextended($1, 0))", key)

    async def read_key(self, sql: str, *args: object) -> Row | None:
        """One statement in autocommit, one round trip: a single SELECT reads one snapshot
        without BEGIN and COMMIT around it."""
        async with self._connection(replica=False) as connection:
            return await _PostgresTx(connection).fetchone(sql, *args)

    async def ping(self) -> None:
        async with self.transaction(write=False) as tx:
            await tx.fetchone("SELECT 1 AS ok")

    async def close(self) -> None:
        await self._primary.close()
        if self._replica is not None:
            await self._replica.close()


class _Pool:
    """An asyncpg pool opened at its first use, so a late database is no crash at start."""

    def __init__(self, dsn: str, max_size: int, timeout: float, statement_timeout: float) -> None:
        self._dsn = dsn
        self._max_size = max_size
        self._timeout = timeout
        self._statement_timeout = statement_timeout
        self._pool: asyncpg.Pool | None = None
        self._lock = asyncio.Lock()

    async def acquire(self) -> _Connection:
        pool = await self._open()
        connection: _Connection = await pool.acquire(timeout=self._timeout)
        return connection

    async def release(self, connection: _Connection) -> None:
        if self._pool is not None:
            await self._pool.release(connection)

    async def close(self) -> None:
        if self._pool is not None:
            await self._pool.close()
            self._pool = None

    async def _open(self) -> asyncpg.Pool:
        async with self._lock:
            if self._pool is None:
                self._pool = await asyncpg.create_pool(
                    self._dsn,
                    min_size=0,
                    max_size=self._max_size,
                    timeout=self._timeout,
                    command_timeout=self._statement_timeout + 1,
                    # The server ends a statement that runs longer (a stuck query holds a
                    # connection and its locks; the client's own timeout follows a second later).
                    server_settings={"statement_timeout": str(int(self._statement_timeout * 1000))},
                    reset=_nothing_to_reset,
                )
            return self._pool


async def _nothing_to_reset(connection: asyncpg.Connection[asyncpg.Record]) -> None:
    """A released connection's reset: asyncpg rolls back a transaction left open, and nothing
    else is left to undo, since the service keeps no session state on a connection (no SET,
    LISTEN, cursor or session-level advisory lock: its locks are pg_advisory_xact_lock).
    Its default reset (RESET ALL, UNLISTEN *, CLOSE ALL, pg_advisory_unlock_all) is one more
    round trip after every transaction and every read."""
