"""PostgreSQL through an asyncpg pool, opened lazily so a late database is no crash."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable, Coroutine, Iterator, Sequence
from contextlib import asynccontextmanager, contextmanager
from typing import Any, TypeVar

import asyncpg

from domain.errors import StorageUnavailable
from infrastructure.persistence.database import Row, ScriptFailed, Tx, UniqueViolation

T = TypeVar("T")
_DRIVER_ERRORS = (asyncpg.PostgresError, asyncpg.InterfaceError, OSError, TimeoutError)


@contextmanager
def _unique_violations() -> Iterator[None]:
    try:
        yield
    except asyncpg.UniqueViolationError as e:
        raise UniqueViolation(str(e)) from e


class _PostgresTx(Tx):
    def __init__(self, connection: asyncpg.pool.PoolConnectionProxy[asyncpg.Record]) -> None:
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
    dialect = "postgres"
    for_update = " FOR UPDATE"

    def __init__(self, dsn: str, *, max_size: int = 10, timeout: float = 5.0) -> None:
        self._dsn = dsn
        self._max_size = max_size
        self._timeout = timeout
        self._pool: asyncpg.Pool | None = None
        self._pool_lock = asyncio.Lock()

    @asynccontextmanager
    async def transaction(self, *, write: bool = True) -> AsyncIterator[Tx]:
        try:
            pool = await self._open()
            async with (
                pool.acquire(timeout=self._timeout) as connection,
                connection.transaction(),
            ):
                yield _PostgresTx(connection)
        except _DRIVER_ERRORS as e:
            raise StorageUnavailable() from e

    async def run(self, work: Callable[[Tx], Coroutine[Any, Any, T]]) -> T:
        async with self.transaction() as tx:
            return await work(tx)

    async def execute_script(self, script: str) -> None:
        try:
            pool = await self._open()
            async with pool.acquire(timeout=self._timeout) as connection:
                try:
                    async with connection.transaction():
                        # Without arguments asyncpg sends the simple query protocol, which
                        # takes several statements at once; the server parses them.
                        await connection.execute(script)
                except asyncpg.PostgresError as e:
                    raise ScriptFailed(str(e)) from e
        except _DRIVER_ERRORS as e:
            raise StorageUnavailable() from e

    async def lock_key(self, tx: Tx, key: str) -> None:
        await tx.fetchone("SELECT pg_advisory_xact_lock(hashtextextended($1, 0))", key)

    async def ping(self) -> None:
        async with self.transaction(write=False) as tx:
            await tx.fetchone("SELECT 1 AS ok")

    async def close(self) -> None:
        if self._pool is not None:
            await self._pool.close()
            self._pool = None

    async def _open(self) -> asyncpg.Pool:
        async with self._pool_lock:
            if self._pool is None:
                self._pool = await asyncpg.create_pool(
                    self._dsn,
                    min_size=0,
                    max_size=self._max_size,
                    timeout=self._timeout,
                    command_timeout=self._timeout,
                )
            return self._pool
