"""The breach notice's mark (``AccountEmail.mark_breach_mailed``): once per password, in the
mail unit of work, on the memory fake, SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from datetime import timedelta
from pathlib import Path

import pytest

from domain.entities import NewUser
from domain.ports import MailUnitOfWork
from infrastructure.persistence.mail_work import SqlMailUnitOfWork
from infrastructure.persistence.users import SqlUserRepository
from tests.contract.conftest import OWNERS_CREATED, SESSION_OWNERS, adapters, sql_database
from tests.fakes.mail import MemoryMail
from tests.fakes.repositories import MemoryUserRepository

NOW = OWNERS_CREATED + timedelta(days=1)
Clients = Callable[[], MailUnitOfWork]


@pytest.fixture(params=adapters(["memory", "sqlite", "postgres"]))
async def clients(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Clients]:
    """Units of work on one store with users 1 and 2."""
    if request.param == "memory":
        users = MemoryUserRepository()
        for email in SESSION_OWNERS:
            await users.add(owner(email))
        shared = MemoryMail(users)
        yield lambda: shared
        return
    async with sql_database(request.param, request, tmp_path) as database:
        for email in SESSION_OWNERS:
            await SqlUserRepository(database).add(owner(email))
        yield lambda: SqlMailUnitOfWork(database)  # PostgreSQL: each on a pool connection


def owner(email: str) -> NewUser:
    return NewUser(email=email, password_hash="h", name=None, role="user", created_at=NOW)


async def mark(mail: MailUnitOfWork, user_id: int = 1) -> bool:
    async with mail.begin() as work:
        return await work.accounts.mark_breach_mailed(user_id, NOW)


async def test_a_user_is_marked_once_and_others_apart(clients: Clients) -> None:
    mail = clients()

    assert await mark(mail, 1) is True
    assert await mark(mail, 1) is False
    assert await mark(mail, 2) is True


async def test_a_new_password_clears_the_mark(clients: Clients) -> None:
    mail = clients()
    await mark(mail)

    async with mail.begin() as work:
        await work.accounts.set_password(1, "new-hash", NOW, verified=False, told=None)

    assert await mark(mail) is True


async def test_a_mark_rolled_back_with_its_work_was_never_made(clients: Clients) -> None:
    mail = clients()

    async def mark_then_fail() -> None:
        async with mail.begin() as work:
            assert await work.accounts.mark_breach_mailed(1, NOW) is True
            raise RuntimeError("the outbox write failed")

    with pytest.raises(RuntimeError):
        await mark_then_fail()

    assert await mark(mail) is True


async def test_of_ten_concurrent_marks_exactly_one_wins(clients: Clients) -> None:
    results = await asyncio.gather(*(mark(clients()) for _ in range(10)))

    assert sorted(results) == [False] * 9 + [True]
