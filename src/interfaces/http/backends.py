"""The backends chosen by URL: the SQL database, and where the keyed stores (refresh grants,
one-time values, rate-limit hits) live: the same database, Valkey, or process memory."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from contextlib import AsyncExitStack
from dataclasses import dataclass

from domain.ports import OneTimeStore, RateLimiter, RefreshGrantStore, SessionIdsOfUser
from infrastructure.config import Settings
from infrastructure.grants.memory import MemoryGrantStore, MemoryOneTimeStore, MemoryRateLimiter
from infrastructure.grants.sql import SqlGrantStore, SqlOneTimeStore, SqlRateLimiter
from infrastructure.persistence import migrations
from infrastructure.persistence.database import Database
from infrastructure.persistence.postgres import PostgresDatabase
from infrastructure.persistence.sqlite import SqliteDatabase

Check = Callable[[], Awaitable[None]]


def open_database(settings: Settings) -> Database:
    path = settings.sqlite_path
    if path is not None:
        return SqliteDatabase(path)
    return PostgresDatabase(
        settings.database_url,
        max_size=settings.database_pool_size,
        statement_timeout=settings.database_statement_timeout,
        read_dsn=settings.database_read_url,
    )


@dataclass(frozen=True, slots=True)
class KeyedStores:
    grants: RefreshGrantStore
    one_time: OneTimeStore
    limiter: RateLimiter
    check: Check | None


async def open_keyed_stores(
    settings: Settings,
    database: Database,
    stack: AsyncExitStack,
    user_sessions: SessionIdsOfUser,
) -> KeyedStores:
    """``user_sessions``: where a store without a per-user index (Valkey) finds them."""
    if settings.grants_url == "database":
        limiter = SqlRateLimiter(database)
        grants = SqlGrantStore(database, limiter)
        return KeyedStores(grants, SqlOneTimeStore(database), limiter, None)
    if settings.grants_url == "memory://":
        memory_limiter = MemoryRateLimiter()
        memory_grants = MemoryGrantStore(memory_limiter)
        return KeyedStores(memory_grants, MemoryOneTimeStore(), memory_limiter, None)
    from infrastructure.grants.valkey import (
        ValkeyGrantStore,
        ValkeyOneTimeStore,
        ValkeyRateLimiter,
        open_valkey,
        parse_valkey_url,
    )

    url, prefix = parse_valkey_url(settings.grants_url)
    client = open_valkey(url)
    stack.push_async_callback(client.aclose)
    valkey_grants = ValkeyGrantStore(client, user_sessions, prefix)
    return KeyedStores(
        valkey_grants,
        ValkeyOneTimeStore(client, prefix),
        ValkeyRateLimiter(client, prefix),
        valkey_grants.ping,
    )


async def migrate(settings: Settings) -> list[str]:
    database = open_database(settings)
    try:
        return await migrations.migrate(database)
    finally:
        await database.close()
