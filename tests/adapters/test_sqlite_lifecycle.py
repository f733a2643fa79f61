"""Closing the embedded database leaves no connection behind: an open aiosqlite connection
keeps a non-daemon thread, and with it the whole process, alive."""

from __future__ import annotations

import asyncio
import threading
from pathlib import Path

import pytest

from domain.errors import StorageUnavailable
from infrastructure.persistence.sqlite import SqliteDatabase


def open_connections() -> set[int | None]:
    return {
        t.ident
        for t in threading.enumerate()
        if ("connection_worker" in t.name or "sqlite-writer" in t.name) and t.is_alive()
    }


async def opened_since(before: set[int | None]) -> set[int | None]:
    """Connection threads started since ``before`` and still alive a moment later."""
    for _ in range(50):
        await asyncio.sleep(0.01)
    return open_connections() - before


async def test_close_during_the_first_connect_leaves_no_connection_open(tmp_path: Path) -> None:
    before = open_connections()
    database = SqliteDatabase(tmp_path / "a.db")
    first = asyncio.create_task(database.ping())
    await asyncio.sleep(0)  # the ping is opening the connection
    await database.close()
    await asyncio.gather(first, return_exceptions=True)
    assert await opened_since(before) == set()


async def test_close_waits_for_the_transaction_in_flight(tmp_path: Path) -> None:
    database = SqliteDatabase(tmp_path / "b.db")
    entered, release = asyncio.Event(), asyncio.Event()

    async def slow_transaction() -> int:
        async with database.transaction() as tx:
            entered.set()
            await release.wait()
            row = await tx.fetchone("SELECT 1 AS ok")
        return int(row["ok"]) if row else 0

    work = asyncio.create_task(slow_transaction())
    await entered.wait()
    closing = asyncio.create_task(database.close())
    await asyncio.sleep(0.05)
    assert not closing.done()
    release.set()
    assert await work == 1
    await closing


async def test_a_closed_database_refuses_new_work(tmp_path: Path) -> None:
    before = open_connections()
    database = SqliteDatabase(tmp_path / "c.db")
    await database.ping()
    await database.close()
    with pytest.raises(StorageUnavailable):
        await database.ping()
    assert await opened_since(before) == set()
