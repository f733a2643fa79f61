"""What the grant stores keep, and the layout before it.

Valkey keeps one hash per session and nothing per token or per user. Families and tokens
written before tokens named their family (legacy: opaque tokens, a ``refresh:<hash>``
index, ``session:<sid>`` hashes with hex hashes; SQL ``refresh_tokens`` rows) keep
working: a legacy token is found once through the old index, refreshes, and its
successor is of the new format, so the family moves to the new layout on that touch.
"""

from __future__ import annotations

import secrets
from collections.abc import Awaitable
from dataclasses import replace
from datetime import timedelta
from typing import cast

import pytest
from valkey.asyncio import Valkey

from domain.ports import (
    GenuineRefreshToken,
    GraceReplay,
    Invalid,
    RateLimit,
    RefreshGrantStore,
    Reused,
    Rotated,
    Rotation,
    SessionRef,
    Throttled,
)
from infrastructure.grants.sql import SqlGrantStore
from infrastructure.grants.valkey import ValkeyGrantStore, open_valkey
from infrastructure.grants.valkey.client import gc_ttl_ms, micros
from infrastructure.persistence.database import Database
from infrastructure.persistence.sessions import SqlSessionRepository
from infrastructure.security.refresh_tokens import HmacRefreshTokens
from tests.backends.valkey import assert_refused_quickly, dead_valkey_url
from tests.contract.conftest import ValkeyBackend, add_session_row, sql_user_sessions
from tests.contract.test_grant_store import ABSOLUTE, ACCESS, BASE, IDLE, at, grant, h, rotation

TOKENS = HmacRefreshTokens(b"k" * 32)
GRACE = timedelta(seconds=10)
FIELDS = {b"u", b"c", b"p", b"r", b"i", b"a", b"o", b"g"}


def legacy_token() -> str:
    """An opaque refresh token as issued before tokens named their family."""
    token = secrets.token_urlsafe(32)
    assert TOKENS.is_legacy(token)
    return token


def refresh(session_id: str, token: str, successor: str, now: timedelta) -> Rotation:
    """As the application asks: a legacy token's generation is unknown."""
    named = TOKENS.read(token)
    return Rotation(
        session_id=session_id,
        presented_hash=h(token),
        presented_generation=None if named is None else named.generation,
        successor_hash=h(successor),
        now=BASE + now,
        idle_ttl=IDLE,
        grace=GRACE,
        deny_until=BASE + now + ACCESS,
    )


async def legacy_refreshes_once_then_follows_the_rule(store: RefreshGrantStore) -> None:
    """Session s1 of user 1 was stored by the layout before with ``token`` current."""
    token = LEGACY["s1"]
    assert await store.session_of(h(token), at(60)) == SessionRef("s1", 1)
    successor = TOKENS.successor(token, "s1")
    assert TOKENS.read(successor) == GenuineRefreshToken("s1", 1)  # the format from now on

    rotated = await store.rotate(refresh("s1", token, successor, timedelta(seconds=60)))
    replay = await store.rotate(refresh("s1", token, successor, timedelta(seconds=65)))
    newer = TOKENS.successor(successor, "s1")
    next_one = await store.rotate(refresh("s1", successor, newer, timedelta(seconds=120)))
    # Generation 3, minted by a rotation the store never saw: unknown, the family kept.
    lost = TOKENS.successor(newer, "s1")
    unseen = await store.rotate(refresh("s1", lost, "-", timedelta(seconds=125)))
    # The legacy token again, two generations back: genuine and old, so reuse.
    again = await store.rotate(refresh("s1", token, successor, timedelta(seconds=130)))

    assert isinstance(rotated, Rotated)
    assert rotated.role == "admin"
    assert isinstance(replay, GraceReplay)
    assert isinstance(next_one, Rotated)
    assert unseen == Invalid("unknown")
    assert again == Reused(session_id="s1", user_id=1)
    assert await store.session_of(h(token), at(131)) is None
    assert await store.is_denied("s1", at(131))


LEGACY = {"s1": legacy_token(), "s2": legacy_token()}


# Valkey


def valkey_store(backend: ValkeyBackend, database: Database, **options: bool) -> ValkeyGrantStore:
    return ValkeyGrantStore(
        backend.client, sql_user_sessions(database), backend.fresh_prefix(), **options
    )


async def keys_under(client: Valkey, prefix: str) -> list[str]:
    return sorted([key.decode() async for key in client.scan_iter(match=f"{prefix}*")])


async def family(client: Valkey, key: str) -> dict[bytes, bytes]:
    return await cast("Awaitable[dict[bytes, bytes]]", client.hgetall(key))


async def seed_valkey_legacy(client: Valkey, prefix: str, session_id: str) -> None:
    """A family of user 1 as the layout before wrote it (``issue.lua`` of then)."""
    token_hash, ttl = h(LEGACY[session_id]), gc_ttl_ms(BASE + ABSOLUTE, BASE)
    session = f"{prefix}session:{session_id}"
    await cast(
        "Awaitable[int]",
        client.hset(
            session,
            mapping={
                "user_id": 1,
                "current": token_hash,
                "idle_expires_at": micros(BASE + IDLE),
                "absolute_expires_at": micros(BASE + ABSOLUTE),
                "role": "admin",
            },
        ),
    )
    await client.pexpire(session, ttl)
    await client.set(f"{prefix}refresh:{token_hash}", session_id, px=ttl)
    await cast("Awaitable[int]", client.sadd(f"{prefix}user:1:sessions", session_id))


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
async def test_valkey_family_from_before_generations_counts_as_generation_0(
    valkey_backend: ValkeyBackend, sqlite_db: Database
) -> None:
    """A compact family written before generations has no ``g``: its current token (of
    unknown generation) rotates to generation 1; a newer genuine token is unknown."""
    client, prefix = valkey_backend.client, valkey_backend.fresh_prefix()
    store = ValkeyGrantStore(client, sql_user_sessions(sqlite_db), prefix)
    await store.issue(grant(token="old"), BASE)
    assert await cast("Awaitable[int]", client.hdel(f"{prefix}s:s1", "g")) == 1

    newer = await store.rotate(rotation("n", "n+1", at(60), generation=1))
    rotated = await store.rotate(rotation("old", "t1", at(61), generation=None))

    assert newer == Invalid("unknown")
    assert isinstance(rotated, Rotated)
    assert (await family(client, f"{prefix}s:s1"))[b"g"] == b"1"


@pytest.mark.backends
async def test_valkey_legacy_family_refreshes_once_and_moves_to_the_new_layout(
    valkey_backend: ValkeyBackend, sqlite_db: Database
) -> None:
    client, prefix = valkey_backend.client, valkey_backend.fresh_prefix()
    store = ValkeyGrantStore(client, sql_user_sessions(sqlite_db), prefix)
    await seed_valkey_legacy(client, prefix, "s1")
    index = f"{prefix}refresh:{h(LEGACY['s1'])}"

    assert await store.session_of(h(LEGACY["s1"]), at(60)) == SessionRef("s1", 1)
    # Reading the family through the old index already moved it.
    assert await keys_under(client, prefix) == sorted(
        [f"{prefix}s:s1", index, f"{prefix}user:1:sessions"]
    )
    moved = await family(client, f"{prefix}s:s1")
    assert moved[b"c"] == bytes.fromhex(h(LEGACY["s1"]))
    assert 0 < cast(int, await client.pttl(f"{prefix}s:s1")) <= gc_ttl_ms(BASE + ABSOLUTE, BASE)

    await legacy_refreshes_once_then_follows_the_rule(store)

    # Nothing new was indexed; the old index and user set only wait for their TTLs.
    assert await keys_under(client, prefix) == sorted(
        [index, f"{prefix}revoked:s1", f"{prefix}user:1:sessions"]
    )


@pytest.mark.backends
async def test_valkey_legacy_family_rotated_directly_moves_on_that_touch(
    valkey_backend: ValkeyBackend, sqlite_db: Database
) -> None:
    client, prefix = valkey_backend.client, valkey_backend.fresh_prefix()
    store = ValkeyGrantStore(client, sql_user_sessions(sqlite_db), prefix)
    await seed_valkey_legacy(client, prefix, "s1")
    successor = TOKENS.successor(LEGACY["s1"], "s1")

    rotated = await store.rotate(refresh("s1", LEGACY["s1"], successor, timedelta(seconds=60)))

    assert isinstance(rotated, Rotated)
    assert not await client.exists(f"{prefix}session:s1")
    moved = await family(client, f"{prefix}s:s1")
    assert set(moved) == FIELDS
    assert moved[b"c"] == bytes.fromhex(h(successor))
    assert moved[b"p"] == bytes.fromhex(h(LEGACY["s1"]))
    assert moved[b"g"] == b"1"


@pytest.mark.backends
async def test_valkey_role_changes_and_revocations_reach_legacy_families_through_sql(
    valkey_backend: ValkeyBackend, sqlite_db: Database
) -> None:
    client, prefix = valkey_backend.client, valkey_backend.fresh_prefix()
    store = ValkeyGrantStore(client, sql_user_sessions(sqlite_db), prefix)
    for sid in ("s1", "s2"):
        await seed_valkey_legacy(client, prefix, sid)
        await add_session_row(sqlite_db, grant(session_id=sid), BASE)
    await client.delete(f"{prefix}user:1:sessions")  # the old set is never read

    assert await store.set_role(1, "user") == 2
    assert await store.revoke_user(1, at(900), keep="s2") == ["s1"]

    assert await keys_under(client, prefix) == sorted(
        [
            f"{prefix}refresh:{h(LEGACY['s1'])}",
            f"{prefix}refresh:{h(LEGACY['s2'])}",
            f"{prefix}revoked:s1",
            f"{prefix}s:s2",
        ]
    )
    assert (await family(client, f"{prefix}s:s2"))[b"o"] == b"user"
    assert await store.revoke_session("s2", at(900)) is True
    assert await store.revoke_user(1, at(900)) == []


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
        store.session_of(h("t0"), BASE),
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


async def seed_sql_legacy(database: Database, session_id: str) -> None:
    """A family of user 1 with its token indexed, as the store before wrote both."""
    token_hash = h(LEGACY[session_id])
    await add_session_row(database, grant(session_id=session_id), BASE)
    await database.run(
        lambda tx: tx.execute(
            "INSERT INTO refresh_families (session_id, user_id, current_hash, previous_hash,"
            " rotated_at, idle_expires_at, absolute_expires_at, role)"
            " VALUES ($1, 1, $2, NULL, NULL, $3, $4, 'admin')",
            session_id,
            token_hash,
            BASE + IDLE,
            BASE + ABSOLUTE,
        )
    )
    await database.run(
        lambda tx: tx.execute(
            "INSERT INTO refresh_tokens (token_hash, session_id, expires_at) VALUES ($1, $2, $3)",
            token_hash,
            session_id,
            BASE + ABSOLUTE,
        )
    )


async def indexed_tokens(database: Database) -> int:
    async with database.transaction(write=False) as tx:
        row = await tx.fetchone("SELECT COUNT(*) AS n FROM refresh_tokens")
    assert row is not None
    return int(row["n"])


async def test_sql_legacy_family_refreshes_once_and_indexes_nothing_new(
    migrated_database: Database,
) -> None:
    await seed_sql_legacy(migrated_database, "s1")
    store = SqlGrantStore(migrated_database)

    await legacy_refreshes_once_then_follows_the_rule(store)

    assert await indexed_tokens(migrated_database) == 1  # only the legacy row, still read


async def test_sql_sessions_write_no_token_rows_and_the_sweep_takes_expired_legacy_ones(
    migrated_database: Database,
) -> None:
    await seed_sql_legacy(migrated_database, "s1")
    store = SqlGrantStore(migrated_database)
    await add_session_row(migrated_database, grant(session_id="s2", token="t0"), BASE)
    await store.issue(grant(session_id="s2", token="t0"), BASE)  # sweeps nothing live
    for n in range(5):
        outcome = await store.rotate(rotation(f"t{n}", f"t{n + 1}", at(60 + n), session="s2"))
        assert isinstance(outcome, Rotated)
    assert await indexed_tokens(migrated_database) == 1

    later = SqlGrantStore(migrated_database)  # its first sign-in sweeps
    after = BASE + ABSOLUTE
    await add_session_row(migrated_database, grant(session_id="s3", now=after), after)
    await later.issue(grant(session_id="s3", now=after), after)

    assert await indexed_tokens(migrated_database) == 0
    assert await later.rotate(rotation("t0", "t1", after, session="s1")) == Invalid("expired")


async def test_sql_session_ids_of_a_user_are_those_started_within_the_lifetime(
    migrated_database: Database,
) -> None:
    """Revoked or not (a grant may outlive its row's revocation for a moment); by start,
    not by the row's idle expiry, which is written behind."""
    database = migrated_database
    old = BASE - ABSOLUTE - timedelta(hours=2)
    await add_session_row(database, grant(session_id="old"), old)
    await add_session_row(database, grant(session_id="b", idle=timedelta(0)), BASE)
    await add_session_row(database, grant(session_id="a"), BASE - ABSOLUTE + timedelta(hours=1))
    await add_session_row(database, grant(session_id="theirs", user_id=2), BASE)
    await SqlSessionRepository(database).revoke("b", BASE, "logout")

    assert await sql_user_sessions(database).session_ids_of(1) == ["a", "b"]
    assert await sql_user_sessions(database).session_ids_of(3) == []
