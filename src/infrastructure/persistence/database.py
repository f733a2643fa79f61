"""A thin seam over the two SQL drivers, so each repository is written once.

SQL is written with Postgres' numbered placeholders ``$1, $2, …``, which SQLite reads as
named parameters; nothing rewrites a query. Driver errors
never leave this package: a unique-key clash is ``UniqueViolation`` (for the repository
to translate), everything else is the port-level ``StorageUnavailable``.
"""

from __future__ import annotations

from collections.abc import Callable, Coroutine, Mapping, Sequence
from contextlib import AbstractAsyncContextManager
from datetime import UTC, datetime
from typing import Any, Protocol, TypeVar

Row = Mapping[str, Any]
T = TypeVar("T")


class UniqueViolation(Exception):
    pass


class ScriptFailed(Exception):
    """A statement of a script failed (the message is the database's); none of it stayed."""


class Tx(Protocol):
    async def fetchone(self, sql: str, *args: object) -> Row | None: ...

    async def fetchall(self, sql: str, *args: object) -> Sequence[Row]: ...

    async def execute(self, sql: str, *args: object) -> int:
        """Run a statement; the number of rows it changed."""
        ...


class Database(Protocol):
    dialect: str
    # Appended to a SELECT that reads a row it is about to change. Postgres locks the
    # row; SQLite needs nothing because every write transaction is BEGIN IMMEDIATE.
    for_update: str

    def transaction(
        self, *, write: bool = True, replica: bool = False
    ) -> AbstractAsyncContextManager[Tx]:
        """``replica``: a read that may lag the latest writes by the replication delay (a
        listing), so a read replica may serve it where one is configured."""
        ...

    async def run(self, work: Callable[[Tx], Coroutine[Any, Any, T]]) -> T:
        """``work`` in one write transaction. It may await only its statements: SQLite runs
        it whole on its writer's thread, keeping the write lock no longer than the work."""
        ...

    async def execute_script(self, script: str) -> None:
        """Run a multi-statement script whole, in one transaction of its own: all or nothing."""
        ...

    async def lock_key(self, tx: Tx, key: str) -> None:
        """Serialise writers of one logical key until the transaction ends."""
        ...

    async def read_key(self, sql: str, *args: object) -> Row | None:
        """One row by its key, the way the backend answers such a read fastest: for the
        lookups every request makes (the session denylist) and every sign-in (the user, its
        app, its device)."""
        ...

    async def ping(self) -> None: ...

    async def close(self) -> None: ...


def as_datetime(value: object) -> datetime:
    if isinstance(value, datetime):
        return value if value.tzinfo else value.replace(tzinfo=UTC)
    if isinstance(value, str):
        return datetime.fromisoformat(value)
    raise TypeError(f"not a timestamp: {value!r}")


def as_optional_datetime(value: object) -> datetime | None:
    return None if value is None else as_datetime(value)


def skip_locked(database: Database) -> str:
    """What a subquery choosing rows to change appends so that concurrent callers take
    disjoint rows without waiting (PostgreSQL); SQLite's writers are serialised anyway."""
    return " FOR UPDATE SKIP LOCKED" if database.dialect == "postgres" else ""
