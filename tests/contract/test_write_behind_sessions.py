"""Session touches written behind: coalesced per session, written in batches, kept while
the database is down, and all written when the app stops."""

from __future__ import annotations

import asyncio
import logging
from datetime import UTC, datetime, timedelta

import pytest

from domain.entities import NewUser, Session
from domain.errors import StorageUnavailable
from domain.ports import SessionRepository
from infrastructure.persistence.database import Database
from infrastructure.persistence.postgres import PostgresDatabase
from infrastructure.persistence.sessions import SqlSessionRepository, Touch
from infrastructure.persistence.users import SqlUserRepository
from infrastructure.persistence.write_behind import WriteBehindSessions
from tests.fakes.clock import FakeClock

T0 = datetime(2026, 3, 1, tzinfo=UTC)
DAY = timedelta(days=1)


async def started(database: Database, *ids: str) -> SqlSessionRepository:
    user = await SqlUserRepository(database).add(
        NewUser(email="a@example.com", password_hash="h", name=None, role="user", created_at=T0)
    )
    sql = SqlSessionRepository(database)
    for session_id in ids:
        await sql.add(
            Session(
                id=session_id,
                user_id=user.id,
                ip_address=None,
                user_agent=None,
                created_at=T0,
                last_used_at=T0,
                expires_at=T0 + DAY,
            )
        )
    return sql


async def last_used(sql: SessionRepository, session_id: str) -> datetime:
    found = await sql.get(session_id)
    assert found is not None
    return found.last_used_at


async def test_touches_wait_for_the_batch_and_then_land_together(sqlite_db: Database) -> None:
    sql = await started(sqlite_db, "s1", "s2")
    behind = WriteBehindSessions(sql, FakeClock(T0))

    for second in range(1, 4):
        await behind.touch("s1", T0 + timedelta(seconds=second), T0 + 2 * DAY)
    await behind.touch("s2", T0 + timedelta(seconds=5), T0 + 2 * DAY)

    assert await last_used(sql, "s1") == T0  # nothing written on the request path
    await behind.flush()
    assert await last_used(sql, "s1") == T0 + timedelta(seconds=3)  # the latest only
    assert await last_used(sql, "s2") == T0 + timedelta(seconds=5)


async def test_a_session_is_written_at_most_once_a_minute(sqlite_db: Database) -> None:
    sql = await started(sqlite_db, "s1")
    clock = FakeClock(T0)
    behind = WriteBehindSessions(sql, clock)
    await behind.touch("s1", T0, T0 + DAY)
    await behind.flush()

    clock.advance(30)
    await behind.touch("s1", clock.now(), T0 + 2 * DAY)
    await behind.flush()
    assert await last_used(sql, "s1") == T0
    assert await last_used(behind, "s1") == clock.now()  # read through: the pending touch

    clock.advance(31)
    await behind.flush()
    assert await last_used(sql, "s1") == T0 + timedelta(seconds=30)


async def test_a_touch_written_late_by_another_process_never_moves_a_session_back(
    migrated_database: Database,
) -> None:
    """Two processes refresh the same session; the one that saw the older refresh writes
    last (its own once-a-minute schedule): the newer last use stays."""
    sql = await started(migrated_database, "s1")
    clock = FakeClock(T0)
    early, late = WriteBehindSessions(sql, clock), WriteBehindSessions(sql, clock)
    await early.touch("s1", T0 + timedelta(seconds=50), T0 + 2 * DAY)
    await late.touch("s1", T0 + timedelta(seconds=55), T0 + 2 * DAY + timedelta(seconds=5))

    await late.flush()
    await early.flush()

    found = await sql.get("s1")
    assert found is not None
    assert found.last_used_at == T0 + timedelta(seconds=55)
    assert found.expires_at == T0 + 2 * DAY + timedelta(seconds=5)


class Unreachable(SqlSessionRepository):
    """The real repository, with its database cut off while ``down``."""

    down = True

    async def touch_many(self, touches: list[Touch]) -> None:
        if self.down:
            raise StorageUnavailable()
        await super().touch_many(touches)


async def test_touches_stay_pending_while_the_database_is_down(sqlite_db: Database) -> None:
    await started(sqlite_db, "s1")
    sql = Unreachable(sqlite_db)
    behind = WriteBehindSessions(sql, FakeClock(T0))
    await behind.touch("s1", T0 + timedelta(seconds=1), T0 + DAY)

    await behind.flush_all()  # fails quietly at close; the touch is still pending

    sql.down = False
    await behind.flush()
    assert await last_used(sql, "s1") == T0 + timedelta(seconds=1)


async def test_stopping_writes_every_pending_touch(sqlite_db: Database) -> None:
    sql = await started(sqlite_db, "s1")
    clock = FakeClock(T0)
    behind = WriteBehindSessions(sql, clock)
    await behind.touch("s1", T0, T0 + DAY)
    await behind.flush()
    await behind.touch("s1", T0 + timedelta(seconds=5), T0 + DAY)

    await behind.flush_all()  # at close

    assert await last_used(sql, "s1") == T0 + timedelta(seconds=5)


WRITING_FOR = 3.0  # seconds of both writers at once
NO_WAIT = timedelta(0)  # every pending touch is due at once


async def test_two_processes_writing_the_same_sessions_at_once_never_deadlock(
    postgres_db: Database, request: pytest.FixtureRequest, caplog: pytest.LogCaptureFixture
) -> None:
    """Two workers' batches share sessions, each gathered in its own order; every batch
    updates its rows in one fixed order, so neither waits for a lock the other holds while
    holding one it wants (PostgreSQL would end one as a deadlock: its touches not written)."""
    ids = [f"s{n:02}" for n in range(40)]
    await started(postgres_db, *ids)
    other = PostgresDatabase(request.getfixturevalue("postgres_url"))
    clock = FakeClock(T0)
    writers = [
        WriteBehindSessions(SqlSessionRepository(database), clock, every=0.005, spacing=NO_WAIT)
        for database in (postgres_db, other)
    ]
    orders = [ids, ids[::-1]]

    async def keep_touching(writer: WriteBehindSessions, order: list[str]) -> int:
        rounds = 0
        stop = asyncio.Event()
        running = asyncio.create_task(writer.run(stop))
        until = asyncio.get_running_loop().time() + WRITING_FOR
        while asyncio.get_running_loop().time() < until:
            rounds += 1
            for session_id in order:
                await writer.touch(session_id, T0 + timedelta(seconds=rounds), T0 + DAY)
            await asyncio.sleep(0.002)
        stop.set()
        await running
        await writer.flush_all()
        return rounds

    try:
        with caplog.at_level(logging.WARNING, logger="authgate"):
            await asyncio.gather(*map(keep_touching, writers, orders))
    finally:
        await other.close()

    assert [r.getMessage() for r in caplog.records if "not written" in r.getMessage()] == []
    assert await last_used(SqlSessionRepository(postgres_db), ids[0]) > T0
