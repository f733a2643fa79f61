"""A change and its row in the account's activity commit or roll back together, over every
adapter (memory, SQLite, PostgreSQL): the row is written in the change's transaction."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from domain.entities import NewUser, Session
from domain.ports import (
    AuditEvent,
    MailUnitOfWork,
    SecurityActivity,
    SessionRepository,
    UserRepository,
)
from infrastructure.persistence.activity import SqlSecurityActivity
from infrastructure.persistence.mail_work import SqlMailUnitOfWork
from infrastructure.persistence.sessions import SqlSessionRepository
from infrastructure.persistence.users import SqlUserRepository
from tests.contract.conftest import adapters, sql_database
from tests.fakes.activity import MemorySecurityActivity
from tests.fakes.mail import MemoryMail
from tests.fakes.repositories import MemorySessionRepository, MemoryUserRepository

NOW = datetime(2026, 1, 1, tzinfo=UTC)
CHANGED = AuditEvent(
    event="password_changed", ip_address="198.51.100.4", user_agent="Firefox", with_change=True
)


@dataclass
class Stores:
    users: UserRepository
    sessions: SessionRepository
    mail: MailUnitOfWork
    activity: SecurityActivity

    async def user(self) -> int:
        added = await self.users.add(
            NewUser(
                email="ada@example.test",
                password_hash="old",
                name=None,
                role="user",
                created_at=NOW,
            ),
            told=None,
        )
        return added.id

    async def types(self, user_id: int) -> list[str]:
        return [e.type for e in await self.activity.page(user_id, before=None, limit=50)]


@pytest.fixture(params=adapters(["memory", "sqlite", "postgres"]))
async def stores(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Stores]:
    if request.param == "memory":
        users = MemoryUserRepository()
        activity = MemorySecurityActivity(users)
        yield Stores(
            users, MemorySessionRepository(activity), MemoryMail(users, activity), activity
        )
        return
    async with sql_database(request.param, request, tmp_path) as database:
        yield Stores(
            SqlUserRepository(database),
            SqlSessionRepository(database),
            SqlMailUnitOfWork(database),
            SqlSecurityActivity(database),
        )


class Injected(Exception):
    """A failure inside the transaction, after the change was written."""


async def change_then_fail(mail: MailUnitOfWork, user_id: int) -> None:
    async with mail.begin() as work:
        await work.accounts.set_password(user_id, "new", NOW, verified=False, told=CHANGED)
        raise Injected()


async def test_a_change_rolled_back_leaves_no_activity_row(stores: Stores) -> None:
    user_id = await stores.user()

    with pytest.raises(Injected):
        await change_then_fail(stores.mail, user_id)

    assert await stores.types(user_id) == []
    assert (await stores.users.get(user_id)).password_hash == "old"  # type: ignore[union-attr]


async def test_a_committed_change_has_its_row_as_told_with_the_changes_time(
    stores: Stores,
) -> None:
    user_id = await stores.user()

    async with stores.mail.begin() as work:
        await work.accounts.set_password(user_id, "new", NOW, verified=False, told=CHANGED)

    [entry] = await stores.activity.page(user_id, before=None, limit=50)
    assert (entry.type, entry.at, entry.user_id) == ("password_changed", NOW, user_id)
    assert (entry.ip_address, entry.user_agent) == ("198.51.100.4", "Firefox")


async def test_each_session_a_revocation_ends_gets_one_row_with_its_id(stores: Stores) -> None:
    user_id = await stores.user()
    for number in (1, 2):
        await stores.sessions.add(session(f"s{number}", user_id), told=None)
    ended = AuditEvent(event="session_revoked", reason="revoke_all", with_change=True)

    await stores.sessions.revoke_all(user_id, NOW, "revoke_all", keep=None, told=ended)
    await stores.sessions.revoke_all(user_id, NOW, "revoke_all", keep=None, told=ended)

    entries = await stores.activity.page(user_id, before=None, limit=50)
    assert sorted((e.type, e.session_id, e.reason) for e in entries) == [
        ("session_revoked", "s1", "revoke_all"),
        ("session_revoked", "s2", "revoke_all"),
    ]


async def test_an_erased_user_gets_no_row(stores: Stores) -> None:
    user_id = await stores.user()
    await stores.sessions.add(session("s1", user_id), told=None)
    await stores.users.remove(user_id)

    ended = AuditEvent(event="session_revoked", reason="admin", with_change=True)
    await stores.sessions.revoke("s1", NOW, "admin", told=ended)

    assert await stores.types(user_id) == []


def session(session_id: str, user_id: int) -> Session:
    return Session(
        id=session_id,
        user_id=user_id,
        ip_address=None,
        user_agent=None,
        created_at=NOW,
        last_used_at=NOW,
        expires_at=NOW + timedelta(days=1),
    )
