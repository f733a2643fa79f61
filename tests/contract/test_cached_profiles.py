"""The per-process profile cache behind /auth/me: short-lived, dropped by our own writes."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

from domain.entities import NewUser
from infrastructure.persistence.database import Database
from infrastructure.persistence.profiles import CachedProfiles
from infrastructure.persistence.users import SqlUserRepository

T0 = datetime(2026, 3, 1, tzinfo=UTC)


async def test_a_profile_is_served_from_the_cache_only_for_its_ttl(sqlite_db: Database) -> None:
    sql = SqlUserRepository(sqlite_db)
    user = await sql.add(
        NewUser(email="a@example.com", password_hash="h1", name=None, role="user", created_at=T0)
    )
    elsewhere = CachedProfiles(sql, ttl=0.2)
    assert await elsewhere.profile(user.id) == user

    await sql.rehash_password(user.id, "h1", "h2", T0)  # as another worker would
    cached = await elsewhere.profile(user.id)
    assert cached is not None
    assert cached.password_hash == "h1"
    fresh = await elsewhere.get(user.id)  # plain reads never come from the cache
    assert fresh is not None
    assert fresh.password_hash == "h2"

    await asyncio.sleep(0.25)
    later = await elsewhere.profile(user.id)
    assert later is not None
    assert later.password_hash == "h2"


async def test_a_write_through_the_cache_drops_the_users_entry(sqlite_db: Database) -> None:
    users = CachedProfiles(SqlUserRepository(sqlite_db), ttl=3600)
    user = await users.add(
        NewUser(email="a@example.com", password_hash="h1", name=None, role="user", created_at=T0)
    )
    await users.profile(user.id)

    await users.rehash_password(user.id, "h1", "h2", T0)
    changed = await users.profile(user.id)
    assert changed is not None
    assert changed.password_hash == "h2"

    await users.remove(user.id)
    assert await users.profile(user.id) is None
