"""What the grant stores keep: Valkey one hash per session and nothing per token or per
user (a user's sessions come from SQL)."""

from __future__ import annotations

from collections.abc import Awaitable
from dataclasses import replace
from datetime import timedelta
from typing import cast

import pytest
from valkey.asyncio import Valkey

from domain.ports import (
    RateLimit,
    Reused,
    Rotated,
    Throttled,
)
from infrastructure.grants.valkey import ValkeyGrantStore, open_valkey
from infrastructure.persistence.database import Database
from infrastructure.persistence.sessions import SqlSessionRepository
from tests.backends.valkey import assert_refused_quickly, dead_valkey_url
from tests.contract.conftest import ValkeyBackend, add_session_row, sql_user_sessions
from tests.contract.test_grant_store import ABSOLUTE, BASE, at, grant, h, rotation

FIELDS = {b"u", b"c", b"p", b"r", b"i", b"a", b"o", b"t", b"m", b"g"}


# Valkey


def valkey_store(
    backend: ValkeyBackend, database: Database, *, cluster: bool | None = None
) -> ValkeyGrantStore:
    return ValkeyGrantStore(
        backend.client, sql_user_sessions(database), backend.fresh_prefix(), cluster=cluster
    )


async def keys_under(client: Valkey, prefix: str) -> list[str]:
    return sorted([key.decode() async for key in client.scan_iter(match=f"{prefix}*")])


async def family(client: Valkey, key: str) -> dict[bytes, bytes]:
    return await cast("Awaitable[dict[bytes, bytes]]", client.hgetall(key))


@pytest.mark.backends
async def test_valkey_keeps_one_key_per_session_however_often_it_rotates(
    valkey_backend: ValkeyBackend, sqlite_db: Database
) -> None:
    client, prefix = valkey_backend.client, valkey_backend.fresh_prefix()
    store = ValkeyGrantStore(client, sql_user_sessions(sqlite_db), prefix)
    for sid in ("s1", "s2"):
        await store.issue(grant(session_id=sid, token=f"{sid}-t0"), BASE)

    for n in range(100):
        step = rotation(f"s1-t{n}", f"s1-t{n + 1}", at(60 + n), generation=n)
        assert isinstance(await store.rotate(step), Rotated)

    assert await keys_under(client, prefix) == [f"{prefix}s:s1", f"{prefix}s:s2"]
    kept = await family(client, f"{prefix}s:s1")
    assert set(kept) == FIELDS
    assert kept[b"c"] == bytes.fromhex(h("s1-t100"))  # 32 bytes, not 64 hex characters
    assert kept[b"p"] == bytes.fromhex(h("s1-t99"))
    assert kept[b"g"] == b"100"
    assert cast(int, await client.pttl(f"{prefix}s:s1")) > 0

    reused = await store.rotate(rotation("s1-t50", "s1-t51", at(200), generation=50))

    assert reused == Reused(session_id="s1", user_id=1)
    assert await keys_under(client, prefix) == [f"{prefix}revoked:s1", f"{prefix}s:s2"]
    assert cast(int, await client.pttl(f"{prefix}revoked:s1")) > 0


@pytest.mark.backends
async def test_valkey_cluster_names_put_every_key_of_a_session_in_its_slot(
    valkey_backend: ValkeyBackend, sqlite_db: Database
) -> None:
    """Hash-tagged names work on a single primary too; the rate-limit hit is its own call."""
    client, prefix = valkey_backend.client, valkey_backend.fresh_prefix()
    store = ValkeyGrantStore(client, sql_user_sessions(sqlite_db), prefix, cluster=True)
    for sid in ("s1", "s2"):
        await add_session_row(sqlite_db, grant(session_id=sid), BASE)
        await store.issue(grant(session_id=sid, token=f"{sid}-t0"), BASE)
    limit = RateLimit(key="refresh:ip:192.0.2.1", limit=1, window=timedelta(minutes=1))

    first = await store.rotate(replace(rotation("s1-t0", "s1-t1", at(1)), limit=limit))
    second = await store.rotate(replace(rotation("s1-t1", "s1-t2", at(2)), limit=limit))
    assert isinstance(first, Rotated)
    assert isinstance(second, Throttled)
    assert await store.set_role(1, "admin") == 2
    assert await store.revoke_user(1, at(900), keep="s2") == ["s1"]

    assert await store.is_denied("s1", at(60))
    assert await keys_under(client, prefix) == sorted(
        [f"{prefix}rate:refresh:ip:192.0.2.1", f"{prefix}revoked:{{s1}}", f"{prefix}s:{{s2}}"]
    )
    assert (await family(client, f"{prefix}s:{{s2}}"))[b"o"] == b"admin"


@pytest.mark.backends
async def test_valkey_scripts_reload_themselves_after_the_script_cache_is_flushed(
    valkey_backend: ValkeyBackend, sqlite_db: Database
) -> None:
    """Scripts run by SHA; a restarted or failed-over server answers NOSCRIPT once."""
    store = valkey_store(valkey_backend, sqlite_db)
    await store.issue(grant(), BASE)
    await valkey_backend.client.script_flush()

    assert isinstance(await store.rotate(rotation("t0", "t1", at(60))), Rotated)


async def test_valkey_store_on_a_dead_server_raises_storage_unavailable_quickly(
    sqlite_db: Database,
) -> None:
    client = open_valkey(dead_valkey_url())
    await add_session_row(sqlite_db, grant(), BASE)
    store = ValkeyGrantStore(client, sql_user_sessions(sqlite_db))
    calls = [
        store.issue(grant(), BASE),
        store.rotate(rotation("t0", "t1", BASE)),
        store.revoke_session("s1", BASE),
        store.revoke_user(1, BASE),
        store.set_role(1, "admin"),
        store.is_denied("s1", BASE),
        store.ping(),
    ]
    await assert_refused_quickly(client, calls)


async def test_a_sentinel_store_whose_sentinels_are_all_gone_raises_storage_unavailable(
    sqlite_db: Database,
) -> None:
    """No sentinel answers, so no primary is known: refused at once, like a dead server."""
    nodes = ",".join(dead_valkey_url().removeprefix("redis://") for _ in range(3))
    client = open_valkey(f"valkey+sentinel://{nodes}/mymaster")
    store = ValkeyGrantStore(client, sql_user_sessions(sqlite_db))
    await assert_refused_quickly(client, [store.rotate(rotation("t0", "t1", BASE)), store.ping()])


# SQL (SQLite and PostgreSQL)


async def test_sql_session_ids_of_a_user_are_every_row_of_it_revoked_or_not(
    migrated_database: Database,
) -> None:
    """Revoked or not (a grant may outlive its row's revocation for a moment), whatever the
    row's idle expiry (written behind), and older than the lifetime too: a session started
    under a longer one, before the setting was lowered, keeps its grant's absolute expiry,
    and "sign out everywhere" must find it."""
    database = migrated_database
    longer_ago = BASE - ABSOLUTE - timedelta(days=3)
    await add_session_row(database, grant(session_id="older"), longer_ago)
    await add_session_row(database, grant(session_id="b", idle=timedelta(0)), BASE)
    await add_session_row(database, grant(session_id="a"), BASE - ABSOLUTE + timedelta(hours=1))
    await add_session_row(database, grant(session_id="theirs", user_id=2), BASE)
    await SqlSessionRepository(database).revoke("b", BASE, "logout")

    assert await sql_user_sessions(database).session_ids_of(1) == ["a", "b", "older"]
    assert await sql_user_sessions(database).session_ids_of(3) == []
