"""``SecurityActivity`` over every adapter (memory, SQLite, PostgreSQL): the user's entries
newest first a page at a time, nothing of an erased user, deletes by age in batches."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from domain.entities import NewUser
from domain.ports import NewActivity, SecurityActivity, UserAdministration, UserRepository
from infrastructure.persistence.activity import SqlSecurityActivity
from infrastructure.persistence.administration import SqlUserAdministration
from infrastructure.persistence.users import SqlUserRepository
from tests.contract.conftest import adapters, sql_database
from tests.fakes.activity import MemorySecurityActivity
from tests.fakes.repositories import MemoryUserAdministration, MemoryUserRepository

NOW = datetime(2026, 1, 1, tzinfo=UTC)


@dataclass
class Store:
    activity: SecurityActivity
    users: UserRepository
    administration: UserAdministration

    async def user(self, email: str) -> int:
        added = await self.users.add(
            NewUser(email=email, password_hash=None, name=None, role="user", created_at=NOW),
            told=None,
        )
        return added.id


@pytest.fixture(params=adapters(["memory", "sqlite", "postgres"]))
async def store(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Store]:
    if request.param == "memory":
        users = MemoryUserRepository()
        activity = MemorySecurityActivity(users)
        yield Store(activity, users, MemoryUserAdministration(users, also_erase=activity.erase))
        return
    async with sql_database(request.param, request, tmp_path) as database:
        yield Store(
            SqlSecurityActivity(database),
            SqlUserRepository(database),
            SqlUserAdministration(database),
        )


def entry(user_id: int, kind: str, minutes: int = 0) -> NewActivity:
    return NewActivity(
        user_id=user_id,
        type=kind,
        at=NOW + timedelta(minutes=minutes),
        ip_address="198.51.100.4",
        user_agent="Firefox",
        session_id="s1",
        method="pwd otp mfa",
        reason="why",
        actor="cli",
    )


async def test_entries_come_back_whole_newest_first_and_only_the_users_own(store: Store):
    ada, bob = await store.user("ada@x.com"), await store.user("bob@x.com")
    await store.activity.add([entry(ada, "one", 1), entry(bob, "theirs", 2)])
    await store.activity.add([entry(ada, "two", 3)])

    found = await store.activity.page(ada, before=None, limit=10)

    assert [e.type for e in found] == ["two", "one"]
    first = found[1]
    assert (first.user_id, first.at, first.ip_address, first.user_agent) == (
        ada,
        NOW + timedelta(minutes=1),
        "198.51.100.4",
        "Firefox",
    )
    assert (first.session_id, first.method, first.reason, first.actor) == (
        "s1",
        "pwd otp mfa",
        "why",
        "cli",
    )


async def test_pages_follow_each_other_by_id(store: Store):
    ada = await store.user("ada@x.com")
    await store.activity.add([entry(ada, f"e{n}", n) for n in range(5)])

    first = await store.activity.page(ada, before=None, limit=2)
    second = await store.activity.page(ada, before=first[-1].id, limit=2)
    third = await store.activity.page(ada, before=second[-1].id, limit=2)

    assert [e.type for e in first + second + third] == ["e4", "e3", "e2", "e1", "e0"]


async def test_an_erased_user_keeps_nothing_and_gets_nothing_more(store: Store):
    ada, bob = await store.user("ada@x.com"), await store.user("bob@x.com")
    await store.activity.add([entry(ada, "before"), entry(bob, "kept")])

    assert await store.administration.erase(ada, NOW)
    await store.activity.add([entry(ada, "after"), entry(bob, "kept too")])

    assert await store.activity.page(ada, before=None, limit=10) == []
    assert len(await store.activity.page(bob, before=None, limit=10)) == 2


async def test_entries_older_than_the_limit_go_in_batches(store: Store):
    ada = await store.user("ada@x.com")
    await store.activity.add([entry(ada, f"old{n}", -60 - n) for n in range(3)])
    await store.activity.add([entry(ada, "new", 0)])

    assert await store.activity.delete_older(NOW - timedelta(minutes=30), 2) == 2
    assert await store.activity.delete_older(NOW - timedelta(minutes=30), 2) == 1
    assert [e.type for e in await store.activity.page(ada, before=None, limit=10)] == ["new"]
