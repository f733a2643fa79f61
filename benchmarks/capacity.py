"""The figures behind docs/scaling.md: what one request asks of each backend, and what one
live session occupies in PostgreSQL and in Valkey.

Requests run in process (the real app over the real backends, no load): every command the
Valkey client sends and every SQL transaction and statement is counted on its way out.
Sizes come from the servers themselves: ``pg_total_relation_size`` (table, indexes and
TOAST) and Valkey's ``used_memory``, each divided by the rows or sessions added.
"""

from __future__ import annotations

import asyncio
import tempfile
from collections.abc import AsyncIterator, Callable, Coroutine, Iterator
from contextlib import asynccontextmanager, contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar
from unittest import mock

import asyncpg
from litestar.testing import AsyncTestClient
from valkey.asyncio.connection import AbstractConnection

from benchmarks import scale, seeding
from benchmarks.deployments import PREFIX
from benchmarks.servers import authgate_env, postgres_database, valkey
from benchmarks.table import Row
from infrastructure.config import load_settings
from infrastructure.persistence.database import Database, Tx
from infrastructure.persistence.database import Row as SqlRow
from interfaces.bootstrap import adapters as adapters_module
from interfaces.bootstrap.backends import migrate
from interfaces.http.app import create_app

T = TypeVar("T")
REPEAT = 20
DEPLOYMENTS = {
    "embedded (SQLite)": "sqlite",
    "PostgreSQL + Valkey": "valkey",
    "PostgreSQL only": "database",
}


@dataclass
class Counts:
    valkey: int = 0
    transactions: int = 0
    statements: int = 0
    history: list[tuple[int, int, int]] = field(default_factory=list)

    def take(self) -> tuple[int, int, int]:
        """The counts since the last take."""
        now = (self.valkey, self.transactions, self.statements)
        last = self.history[-1] if self.history else (0, 0, 0)
        self.history.append(now)
        return (now[0] - last[0], now[1] - last[1], now[2] - last[2])


class _CountingTx(Tx):
    def __init__(self, inner: Tx, counts: Counts) -> None:
        self._inner = inner
        self._counts = counts

    async def fetchone(self, sql: str, *args: object) -> SqlRow | None:
        self._counts.statements += 1
        return await self._inner.fetchone(sql, *args)

    async def fetchall(self, sql: str, *args: object) -> Any:
        self._counts.statements += 1
        return await self._inner.fetchall(sql, *args)

    async def execute(self, sql: str, *args: object) -> int:
        self._counts.statements += 1
        return await self._inner.execute(sql, *args)


class _CountingDatabase:
    """The app's database, counting transactions and statements; the rest passes through."""

    def __init__(self, inner: Database, counts: Counts) -> None:
        self._inner = inner
        self._counts = counts

    @asynccontextmanager
    async def transaction(self, *, write: bool = True, replica: bool = False) -> AsyncIterator[Tx]:
        self._counts.transactions += 1
        async with self._inner.transaction(write=write, replica=replica) as tx:
            yield _CountingTx(tx, self._counts)

    async def run(self, work: Callable[[Tx], Coroutine[Any, Any, T]]) -> T:
        self._counts.transactions += 1
        return await self._inner.run(lambda tx: work(_CountingTx(tx, self._counts)))

    async def read_key(self, sql: str, *args: object) -> SqlRow | None:
        # A keyed read is one statement in autocommit (SQLite: on the loop's thread), no
        # transaction; counted all the same, or the hot paths' reads would not show.
        self._counts.statements += 1
        return await self._inner.read_key(sql, *args)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._inner, name)


@contextmanager
def counting() -> Iterator[Counts]:
    counts = Counts()
    send = AbstractConnection.send_packed_command
    open_database = getattr(adapters_module, "open_database")  # noqa: B009

    async def counted_send(self: AbstractConnection, *args: Any, **kwargs: Any) -> None:
        counts.valkey += 1  # one write to the socket: one round trip (a pipeline is one)
        await send(self, *args, **kwargs)

    def counted_database(settings: Any) -> Any:
        return _CountingDatabase(open_database(settings), counts)

    with (
        mock.patch.object(AbstractConnection, "send_packed_command", counted_send),
        mock.patch.object(adapters_module, "open_database", counted_database),
    ):
        yield counts


@dataclass(frozen=True, slots=True)
class Cost:
    operation: str
    valkey: float
    transactions: float
    statements: float


async def _costs(env: dict[str, str]) -> list[Cost]:
    settings = load_settings(env, dotenv=None)
    await migrate(settings)
    costs: list[Cost] = []
    body = {"email": seeding.EMAIL, "password": seeding.PASSWORD}
    with counting() as counts:
        app = create_app(settings)
        async with AsyncTestClient(app, base_url="http://127.0.0.1:8000") as client:
            (await client.post("/auth/register", json=body)).raise_for_status()

            async def measure(name: str, call: Callable[[], Coroutine[Any, Any, Any]]) -> None:
                counts.take()
                for _ in range(REPEAT):
                    (await call()).raise_for_status()
                v, t, s = counts.take()
                costs.append(Cost(name, v / REPEAT, t / REPEAT, s / REPEAT))

            async def login() -> Any:
                return await client.post("/auth/login", json=body)

            await measure("POST /auth/login", login)
            access = (await login()).json()["access_token"]
            bearer = {"Authorization": f"Bearer {access}"}
            await asyncio.sleep(1.1)  # the profile cache (1 s) empty: the first /me reads
            counts.take()
            (await client.get("/auth/me", headers=bearer)).raise_for_status()
            v, t, s = counts.take()
            costs.append(Cost("GET /auth/me, profile not cached", v, t, s))

            async def me() -> Any:
                return await client.get("/auth/me", headers=bearer)

            await measure("GET /auth/me, profile cached (1 s)", me)

            async def refresh() -> Any:
                return await client.post("/auth/refresh", headers={"Origin": settings.issuer})

            await measure("POST /auth/refresh", refresh)
        counts.take()
    return costs


def operation_rows(workdir: Path) -> list[Row]:
    rows: list[Row] = []
    for label, kind in DEPLOYMENTS.items():
        with _deployment(kind, workdir / kind) as env:
            for cost in asyncio.run(_costs(env)):
                measure = (
                    f"{cost.valkey:g} Valkey, {cost.transactions:g} SQL tx"
                    f" / {cost.statements:g} statements"
                )
                rows.append(Row(f"{cost.operation}, {label}", measure, "(capacity model)", True))
    return rows


@contextmanager
def _deployment(kind: str, workdir: Path) -> Iterator[dict[str, str]]:
    workdir.mkdir(parents=True, exist_ok=True)
    if kind == "sqlite":
        yield authgate_env(workdir, f"sqlite:///{workdir / 'capacity.db'}", "database")
        return
    with postgres_database() as database:
        if kind == "database":
            yield authgate_env(workdir, database, "database")
            return
        with valkey() as grants:
            yield authgate_env(workdir, database, grants)


# What one live session occupies, measured at two sizes. A thousand real sign-ins are the
# templates; the rest are copies made inside PostgreSQL (unique columns varied), so the rows
# have the sizes the service writes.
TEMPLATES = 1_000


async def _sql_sizes(env: dict[str, str], counts: tuple[int, ...]) -> list[Row]:
    settings = load_settings(env, dotenv=None)
    await migrate(settings)
    await seeding.sign_ins(settings, TEMPLATES)
    rows: list[Row] = []
    connection = await asyncpg.connect(settings.database_url)
    try:
        have = TEMPLATES
        for target in counts:
            await _copy_sessions(connection, target // TEMPLATES - have // TEMPLATES, have)
            have = target
            await connection.execute("VACUUM ANALYZE")
            for table in ("users", "sessions", "refresh_families"):
                size = await connection.fetchval("SELECT pg_total_relation_size($1)", table)
                found = await connection.fetchval(f"SELECT count(*) FROM {table}")
                rows.append(
                    Row(
                        f"PostgreSQL {table}, {target:,} sessions",
                        f"{found:,} rows, {size / target:,.0f} B per session",
                        "(capacity model)",
                        True,
                    )
                )
    finally:
        await connection.close()
    return rows


async def _copy_sessions(connection: asyncpg.Connection, rounds: int, have: int) -> None:
    """Copy the template users, their sessions and grants ``rounds`` more times."""
    for n in range(have // TEMPLATES, have // TEMPLATES + rounds):
        async with connection.transaction():
            await _copy(connection, "users", {"id": None, "email": f"'{n}.' || email"}, "id <= $1")
            await _copy(
                connection,
                "sessions",
                {
                    "id": f"'{n}.' || id",
                    "user_id": "(SELECT u.id FROM users u WHERE u.email = "
                    f"'{n}.' || (SELECT email FROM users o WHERE o.id = user_id))",
                },
                "user_id <= $1",
            )
            await _copy(
                connection,
                "refresh_families",
                {
                    "session_id": f"'{n}.' || session_id",
                    "user_id": "(SELECT u.id FROM users u WHERE u.email = "
                    f"'{n}.' || (SELECT email FROM users o WHERE o.id = user_id))",
                },
                "user_id <= $1",
            )


async def _copy(
    connection: asyncpg.Connection, table: str, varied: dict[str, str | None], where: str
) -> None:
    columns = [
        r["column_name"]
        for r in await connection.fetch(
            "SELECT column_name FROM information_schema.columns"
            " WHERE table_name = $1 ORDER BY ordinal_position",
            table,
        )
    ]
    kept = [c for c in columns if varied.get(c, c) is not None]
    values = [varied.get(c) or c for c in kept]
    await connection.execute(
        f"INSERT INTO {table} ({', '.join(kept)}) SELECT {', '.join(values)}"
        f" FROM {table} WHERE {where}",
        TEMPLATES,
    )


def size_rows(workdir: Path, counts: tuple[int, ...]) -> list[Row]:
    rows: list[Row] = []
    with postgres_database() as database:
        env = authgate_env(workdir, database, "database")
        rows += asyncio.run(_sql_sizes(env, counts))
    with valkey() as url:
        have = 0
        before = scale.used_memory(url)
        for target in counts:
            scale.load(url, PREFIX, have, target - have, scale.now_us())
            have = target
            per = (scale.used_memory(url) - before) / target
            rows.append(
                Row(f"Valkey, {target:,} live sessions", f"{per:,.0f} B per session", "", True)
            )
    return rows


def rows(quick: bool) -> list[Row]:
    with tempfile.TemporaryDirectory() as tmp:
        workdir = Path(tmp)
        counts = (10_000, 100_000) if quick else (100_000, 1_000_000)
        return operation_rows(workdir) + size_rows(workdir, counts)
