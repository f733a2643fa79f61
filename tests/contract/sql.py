"""Fresh SQL databases for contract tests: a new SQLite file, or our Postgres emptied."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import pytest

from infrastructure.persistence.database import Database
from infrastructure.persistence.migrations import migrate
from infrastructure.persistence.postgres import PostgresDatabase
from infrastructure.persistence.sqlite import SqliteDatabase
from tests.backends.postgres import truncate


@asynccontextmanager
async def sql_database(
    name: str, request: pytest.FixtureRequest, tmp_path: Path
) -> AsyncIterator[Database]:
    database: Database
    if name == "sqlite":
        database = SqliteDatabase(tmp_path / "contract.db")
        await migrate(database)
    elif name == "postgres":
        url: str = request.getfixturevalue("postgres_url")
        database = PostgresDatabase(url)
        await migrate(database)
        await truncate(url)
    else:
        raise LookupError(f"no SQL database {name!r}")
    try:
        yield database
    finally:
        await database.close()
