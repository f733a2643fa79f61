"""The backends chosen by URL: the SQL database, and where the keyed stores (refresh grants,
one-time values, rate-limit hits) live: the same database, Valkey, or process memory."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from contextlib import AsyncExitStack
from dataclasses import dataclass
from typing import TypeVar, cast

from domain.ports import (
    ExpiredGrants,
    GrantStoreIntegrity,
    OneTimeStore,
    RateLimiter,
    RefreshGrantStore,
    SessionIdsOfUser,
)
from infrastructure.config import Settings
from infrastructure.grants.memory import MemoryGrantStore, MemoryOneTimeStore, MemoryRateLimiter
from infrastructure.grants.sql import SqlGrantStore, SqlOneTimeStore, SqlRateLimiter
from infrastructure.persistence import migrations
from infrastructure.persistence.database import Database
from infrastructure.persistence.postgres import PostgresDatabase
from infrastructure.persistence.sqlite import SqliteDatabase
from infrastructure.persistence.webhooks import seal_plain_secrets
from infrastructure.security.secret_box import AesGcmSecretBox
from infrastructure.security.secrets_key import load_or_create_secrets_key

Check = Callable[[], Awaitable[None]]
T = TypeVar("T")


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
    """Each store and what reaches it: a readiness check (none where it is the database), the
    lost-store seal and the grants the repair works through, where expired families go."""

    grants: RefreshGrantStore
    one_time: OneTimeStore
    limiter: RateLimiter
    check: Check | None
    integrity: GrantStoreIntegrity
    recovery_grants: RefreshGrantStore
    expired: ExpiredGrants | None = None
    # What keeps this process's copy of the session denylist true, beside the requests.
    follow: Callable[[asyncio.Event], Awaitable[None]] | None = None


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
        return KeyedStores(
            grants, SqlOneTimeStore(database), limiter, None, grants, grants, expired=grants
        )
    if settings.grants_url == "memory://":
        memory_limiter = MemoryRateLimiter()
        memory = MemoryGrantStore(memory_limiter)
        return KeyedStores(
            memory, MemoryOneTimeStore(), memory_limiter, None, memory, memory, expired=memory
        )
    from valkey.asyncio import Valkey

    from infrastructure.grants.valkey import (
        ValkeyGrantStore,
        ValkeyOneTimeStore,
        ValkeyRateLimiter,
        cluster_url,
        open_valkey,
        parse_valkey_url,
    )
    from infrastructure.grants.valkey.denylist import PushedDenylist
    from infrastructure.grants.valkey.epoch import ValkeyEpoch, epoch_guard

    url, prefix = parse_valkey_url(settings.grants_url)
    # A single primary (or Sentinel's) refuses to serve a lost store from the first command
    # on a new connection (``epoch``). A cluster's connections go to many nodes: there the
    # once-a-second check alone finds a lost marker.
    guard = None if cluster_url(url) else epoch_guard(prefix)
    client = open_valkey(url, on_connect=guard)
    stack.push_async_callback(client.aclose)
    recovery = open_valkey(url)
    stack.push_async_callback(recovery.aclose)
    # Denials pushed to every process (not on a cluster: denylist.py).
    denylist = None if cluster_url(url) else PushedDenylist(cast(Valkey, client), prefix)
    grants_store = ValkeyGrantStore(client, user_sessions, prefix, denylist=denylist)
    return KeyedStores(
        grants_store,
        ValkeyOneTimeStore(client, prefix),
        ValkeyRateLimiter(client, prefix),
        grants_store.ping,
        ValkeyEpoch(recovery, prefix, guarded=client),
        ValkeyGrantStore(recovery, user_sessions, prefix),
        follow=None if denylist is None else denylist.run,
    )


async def migrate(settings: Settings) -> list[str]:
    """Apply the pending migrations, then seal the webhook secrets stored in the clear
    (before 0011: SQL has no key); the versions applied."""

    async def work(database: Database) -> list[str]:
        applied = await migrations.migrate(database)
        await seal_plain_secrets(
            database,
            lambda: AesGcmSecretBox(load_or_create_secrets_key(settings.secrets_key_path)),
        )
        return applied

    return await _on_database(settings, work)


async def pending_migrations(settings: Settings) -> list[str]:
    return await _on_database(settings, migrations.pending)


async def migration_status(settings: Settings) -> list[migrations.MigrationState]:
    return await _on_database(settings, migrations.status)


async def _on_database(settings: Settings, work: Callable[[Database], Awaitable[T]]) -> T:
    database = open_database(settings)
    try:
        return await work(database)
    finally:
        await database.close()
