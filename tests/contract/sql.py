"""Fresh SQL databases for contract tests: a new SQLite file, or our Postgres emptied."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from pathlib import Path

import pytest

from infrastructure.persistence.database import Database
from infrastructure.persistence.migrations import migrate
from infrastructure.persistence.postgres import PostgresDatabase
from infrastructure.persistence.sqlite import SqliteDatabase
from tests.backends import run_token
from tests.backends.postgres import admin_execute, truncate


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


@asynccontextmanager
async def empty_sql_databases(
    name: str, request: pytest.FixtureRequest, tmp_path: Path
) -> AsyncIterator[Callable[[], Database]]:
    """Opens databases on one place not even migrated: a new SQLite file, or a new schema of
    its own in our Postgres. Each call is another client, as another process would be."""
    opened: list[Database] = []
    if name == "sqlite":
        place = str(tmp_path / "empty.db")
    elif name == "postgres":
        url: str = request.getfixturevalue("postgres_url")
        schema = f"empty_{run_token()}"
        await admin_execute(url, f'CREATE SCHEMA "{schema}"')
        # asyncpg passes unknown URL parameters on as server settings.
        place = f"{url}{'&' if '?' in url else '?'}search_path={schema}"
    else:
        raise LookupError(f"no SQL database {name!r}")

    def open_database() -> Database:
        database: Database
        database = SqliteDatabase(Path(place)) if name == "sqlite" else PostgresDatabase(place)
        opened.append(database)
        return database

    try:
        yield open_database
    finally:
        for database in opened:
            await database.close()
        if name == "postgres":
            await admin_execute(url, f'DROP SCHEMA "{schema}" CASCADE')
