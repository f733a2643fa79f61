"""PostgreSQL as operators size it: the pool's size, the statement timeout, and a read
replica serving the listings (a second database stands in for the replica)."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import asyncpg
import pytest

from domain.entities import NewUser, Session
from domain.errors import StorageUnavailable
from infrastructure.persistence.migrations import migrate
from infrastructure.persistence.postgres import PostgresDatabase
from infrastructure.persistence.sessions import SqlSessionRepository
from infrastructure.persistence.users import SqlUserRepository
from tests.backends.postgres import postgres_database

pytestmark = pytest.mark.backends
NOW = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)


@pytest.fixture(scope="module")
def replica_url() -> Iterator[str]:
    with postgres_database() as url:
        yield url


async def test_no_more_connections_than_the_pool_size(postgres_url: str) -> None:
    database = PostgresDatabase(postgres_url, max_size=3)

    async def backend() -> int:
        async with database.transaction(write=False) as tx:
            row = await tx.fetchone("SELECT pg_backend_pid() AS pid, pg_sleep(0.2) AS slept")
        assert row is not None
        return int(row["pid"])

    try:
        pids = await asyncio.gather(*(backend() for _ in range(12)))
    finally:
        await database.close()
    assert len(set(pids)) == 3


async def test_a_statement_over_the_timeout_is_ended_by_the_server(postgres_url: str) -> None:
    database = PostgresDatabase(postgres_url, statement_timeout=0.3)
    started = time.monotonic()
    try:
        with pytest.raises(StorageUnavailable):
            async with database.transaction(write=False) as tx:
                await tx.fetchone("SELECT pg_sleep(5) AS slept")
        async with database.transaction(write=False) as tx:  # the connection is usable again
            assert await tx.fetchone("SELECT 1 AS one") == {"one": 1}
    finally:
        await database.close()
    assert time.monotonic() - started < 3


@pytest.fixture
async def primary_and_replica(
    postgres_url: str, replica_url: str
) -> AsyncIterator[tuple[PostgresDatabase, PostgresDatabase]]:
    """Two databases with the same schema; the "replica" has a session the primary lacks."""
    primary = PostgresDatabase(postgres_url)
    replica_side = PostgresDatabase(replica_url)
    for database in (primary, replica_side):
        await migrate(database)
        async with database.transaction() as tx:
            await tx.execute("TRUNCATE users, sessions RESTART IDENTITY CASCADE")
    for database, sessions in ((primary, ["on-primary"]), (replica_side, ["on-replica"])):
        user = await SqlUserRepository(database).add(
            NewUser(
                email="ada@example.test", password_hash=None, name=None, role="user", created_at=NOW
            )
        )
        for session_id in sessions:
            await SqlSessionRepository(database).add(_session(session_id, user.id))
    await replica_side.close()
    try:
        yield primary, PostgresDatabase(postgres_url, read_dsn=replica_url)
    finally:
        await primary.close()


async def test_listings_are_read_from_the_replica_and_the_rest_from_the_primary(
    primary_and_replica: tuple[PostgresDatabase, PostgresDatabase],
) -> None:
    _, routed = primary_and_replica
    sessions = SqlSessionRepository(routed)
    try:
        listed = await sessions.list_live(1, NOW)
        fetched = await sessions.get("on-primary")
        await sessions.add(_session("written", 1))  # writes go to the primary
        async with routed.transaction(write=False) as tx:  # plain reads too
            primary_ids = [r["id"] for r in await tx.fetchall("SELECT id FROM sessions")]
    finally:
        await routed.close()

    assert [session.id for session in listed] == ["on-replica"]
    assert fetched is not None
    assert sorted(primary_ids) == ["on-primary", "written"]


async def test_while_the_replica_is_unreachable_the_primary_serves_the_listings(
    postgres_url: str,
) -> None:
    database = PostgresDatabase(postgres_url, read_dsn="postgresql://postgres@127.0.0.1:1/x")
    try:
        await migrate(database)
        assert await SqlSessionRepository(database).list_live(10**9, NOW) == []
    finally:
        await database.close()


def _session(session_id: str, user_id: int) -> Session:
    return Session(
        id=session_id,
        user_id=user_id,
        ip_address="127.0.0.1",
        user_agent="test",
        created_at=NOW,
        last_used_at=NOW,
        expires_at=NOW + timedelta(days=1),
        revoked_at=None,
        revoked_reason=None,
    )


@pytest.fixture
def statements(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Every statement the pool's connections send, in order (asyncpg's query logger)."""
    sent: list[str] = []
    create_pool = asyncpg.create_pool

    async def log_queries(connection: asyncpg.Connection) -> None:
        connection.add_query_logger(lambda record: sent.append(record.query))

    def logged_pool(*args: Any, **kwargs: Any) -> Any:
        return create_pool(*args, init=log_queries, **kwargs)

    monkeypatch.setattr(asyncpg, "create_pool", logged_pool)
    return sent


async def test_a_keyed_read_is_one_round_trip(postgres_url: str, statements: list[str]) -> None:
    database = PostgresDatabase(postgres_url)
    try:
        assert await database.read_key("SELECT $1::int AS one", 1) == {"one": 1}
        assert await database.read_key("SELECT $1::int AS two", 2) == {"two": 2}
    finally:
        await database.close()

    # No BEGIN and COMMIT around one SELECT, and no reset of the connection after it.
    assert statements == ["SELECT $1::int AS one", "SELECT $1::int AS two"]


async def changed_its_mind(database: PostgresDatabase) -> None:
    async with database.transaction() as tx:
        await tx.fetchone("SELECT 2 AS two")
        raise LookupError("changed its mind")


async def test_a_transaction_is_its_statements_and_nothing_after_it(
    postgres_url: str, statements: list[str]
) -> None:
    database = PostgresDatabase(postgres_url)
    try:
        async with database.transaction() as tx:
            await tx.fetchone("SELECT 1 AS one")
        with pytest.raises(LookupError):
            await changed_its_mind(database)
    finally:
        await database.close()

    assert statements == [
        "BEGIN;",
        "SELECT 1 AS one",
        "COMMIT;",
        "BEGIN;",
        "SELECT 2 AS two",
        "ROLLBACK;",
    ]
