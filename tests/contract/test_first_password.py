"""A password written only over the one the caller saw (``AccountEmail.replace_password``):
a first one only for an account without one (of concurrent callers exactly one wins), a
change only over the password it checked; on the memory fake, SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from pathlib import Path

import pytest

from domain.entities import NewUser
from domain.ports import MailUnitOfWork, UserRepository
from infrastructure.persistence.mail_work import SqlMailUnitOfWork
from infrastructure.persistence.users import SqlUserRepository
from tests.contract.conftest import OWNERS_CREATED, adapters, sql_database
from tests.fakes.mail import MemoryMail
from tests.fakes.repositories import MemoryUserRepository


@dataclass
class Stores:
    users: UserRepository
    mail: Callable[[], MailUnitOfWork]
    without: int  # a user with no password
    with_one: int  # a user with a password


def user(email: str, password_hash: str | None) -> NewUser:
    return NewUser(
        email=email, password_hash=password_hash, name=None, role="user", created_at=OWNERS_CREATED
    )


@pytest.fixture(params=adapters(["memory", "sqlite", "postgres"]))
async def stores(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Stores]:
    if request.param == "memory":
        users = MemoryUserRepository()
        shared = MemoryMail(users)
        without = await users.add(user("passkey@example.com", None))
        with_one = await users.add(user("password@example.com", "h"))
        yield Stores(users, lambda: shared, without.id, with_one.id)
        return
    async with sql_database(request.param, request, tmp_path) as database:
        repository = SqlUserRepository(database)
        without = await repository.add(user("passkey@example.com", None))
        with_one = await repository.add(user("password@example.com", "h"))
        yield Stores(repository, lambda: SqlMailUnitOfWork(database), without.id, with_one.id)


async def add(mail: MailUnitOfWork, user_id: int, password_hash: str) -> bool:
    async with mail.begin() as work:
        return await work.accounts.replace_password(
            user_id, None, password_hash, OWNERS_CREATED, told=None
        )


async def stored_hash(stores: Stores, user_id: int) -> str | None:
    found = await stores.users.get(user_id)
    assert found is not None
    return found.password_hash


async def test_an_account_without_a_password_gets_one_and_one_with_keeps_its_own(
    stores: Stores,
) -> None:
    assert await add(stores.mail(), stores.without, "first") is True
    assert await add(stores.mail(), stores.with_one, "intruder") is False

    assert await stored_hash(stores, stores.without) == "first"
    assert await stored_hash(stores, stores.with_one) == "h"


async def test_of_concurrent_first_passwords_exactly_one_is_set(stores: Stores) -> None:
    outcomes = await asyncio.gather(
        *(add(stores.mail(), stores.without, f"hash-{n}") for n in range(4))
    )

    assert sorted(outcomes) == [False, False, False, True]
    assert await stored_hash(stores, stores.without) == f"hash-{outcomes.index(True)}"


async def change(mail: MailUnitOfWork, user_id: int, verified: str, password_hash: str) -> bool:
    async with mail.begin() as work:
        return await work.accounts.replace_password(
            user_id, verified, password_hash, OWNERS_CREATED, told=None
        )


async def test_a_change_replaces_only_the_password_it_checked(stores: Stores) -> None:
    """A reset (or "this wasn't me") that got there while the change was hashing wins."""
    assert await change(stores.mail(), stores.with_one, "h", "changed") is True
    assert await change(stores.mail(), stores.with_one, "h", "late") is False
    assert await change(stores.mail(), stores.without, "h", "none") is False

    assert await stored_hash(stores, stores.with_one) == "changed"
    assert await stored_hash(stores, stores.without) is None
