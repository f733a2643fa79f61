"""An email change in the stores: the change token keeps its new address and the session
that asked (``MailTokens.holder``), and ``AccountEmail.change_email`` moves the address,
marks it verified, answers the old one, and refuses an address another account has,
writing nothing; an address a live way back holds is taken for every other account (at
sign-up too); on the memory fake, SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from pathlib import Path

import pytest

from domain.entities import NewUser
from domain.errors import EmailTaken
from domain.ports import (
    Held,
    MailKind,
    MailToken,
    MailUnitOfWork,
    PreviousAddress,
    UserAdministration,
    UserRepository,
)
from infrastructure.persistence.administration import SqlUserAdministration
from infrastructure.persistence.mail_work import SqlMailUnitOfWork
from infrastructure.persistence.users import SqlUserRepository
from tests.contract.conftest import OWNERS_CREATED, adapters, sql_database
from tests.fakes.mail import MemoryMail
from tests.fakes.repositories import MemoryUserAdministration, MemoryUserRepository

NOW = OWNERS_CREATED + timedelta(days=1)


@dataclass
class Stores:
    users: UserRepository
    mail: Callable[[], MailUnitOfWork]
    ada: int  # unverified
    bob: int
    admin: UserAdministration


def user(email: str) -> NewUser:
    return NewUser(
        email=email, password_hash="h", name=None, role="user", created_at=OWNERS_CREATED
    )


@pytest.fixture(params=adapters(["memory", "sqlite", "postgres"]))
async def stores(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Stores]:
    if request.param == "memory":
        users = MemoryUserRepository()
        shared = MemoryMail(users)
        ada, bob = (
            await users.add(user("ada@example.com")),
            await users.add(user("bob@example.com")),
        )
        yield Stores(users, lambda: shared, ada.id, bob.id, MemoryUserAdministration(users))
        return
    async with sql_database(request.param, request, tmp_path) as database:
        repository = SqlUserRepository(database)
        ada = await repository.add(user("ada@example.com"))
        bob = await repository.add(user("bob@example.com"))
        admin = SqlUserAdministration(database)
        yield Stores(repository, lambda: SqlMailUnitOfWork(database), ada.id, bob.id, admin)


async def change(stores: Stores, user_id: int, email: str) -> str | None:
    """The address the account had, or None."""
    async with stores.mail().begin() as work:
        previous = await work.accounts.change_email(user_id, email, NOW, None)
    return None if previous is None else previous.email


async def issue_and_change(stores: Stores, token: MailToken, email: str) -> None:
    """A token issued, then the address changed, in one unit of work."""
    async with stores.mail().begin() as work:
        await work.tokens.issue(token)
        await work.accounts.change_email(stores.ada, email, NOW, None)


async def test_the_change_token_keeps_its_address_and_session(stores: Stores) -> None:
    token = MailToken(
        token_hash="c" * 64,
        user_id=stores.ada,
        kind=MailKind.CHANGE_EMAIL,
        expires_at=NOW + timedelta(hours=1),
        email="ada@new.example.com",
        session_id="s-1",
    )
    async with stores.mail().begin() as work:
        await work.tokens.issue(token)
    async with stores.mail().begin() as work:
        held = await work.tokens.holder(token.token_hash, MailKind.CHANGE_EMAIL, NOW)
        other_kind = await work.tokens.holder(token.token_hash, MailKind.VERIFY_EMAIL, NOW)

    assert held == Held(stores.ada, token.expires_at, "ada@new.example.com", "s-1")
    assert other_kind is None


async def test_the_address_moves_verified_and_the_old_one_is_answered(stores: Stores) -> None:
    assert await change(stores, stores.ada, "ada@new.example.com") == "ada@example.com"

    moved = await stores.users.get(stores.ada)
    assert moved is not None
    assert (moved.email, moved.email_verified_at) == ("ada@new.example.com", NOW)
    assert await stores.users.get_by_email("ada@example.com") is None
    assert await change(stores, 10_000, "nobody@example.com") is None  # no such account


async def test_an_address_another_account_has_is_refused_and_nothing_is_written(
    stores: Stores,
) -> None:
    issued = MailToken(
        token_hash="d" * 64,
        user_id=stores.ada,
        kind=MailKind.RESET_PASSWORD,
        expires_at=NOW + timedelta(hours=1),
    )
    with pytest.raises(EmailTaken):
        await issue_and_change(stores, issued, "bob@example.com")

    kept = await stores.users.get(stores.ada)
    assert kept is not None
    assert (kept.email, kept.email_verified_at) == ("ada@example.com", None)
    async with stores.mail().begin() as work:
        assert await work.tokens.holder(issued.token_hash, MailKind.RESET_PASSWORD, NOW) is None


async def test_an_address_held_for_a_way_back_is_taken_for_everyone_else(stores: Stores) -> None:
    held = MailToken(
        token_hash="e" * 64,
        user_id=stores.ada,
        kind=MailKind.RESTORE_EMAIL,
        expires_at=NOW + timedelta(days=7),
        email="ada@old.example.com",
    )
    async with stores.mail().begin() as work:
        await work.tokens.issue(held)
    later = replace(user("ada@old.example.com"), created_at=NOW)

    with pytest.raises(EmailTaken):
        await stores.users.add(later, None)
    with pytest.raises(EmailTaken):
        await change(stores, stores.bob, "ada@old.example.com")
    assert await change(stores, stores.ada, "ada@old.example.com") == "ada@example.com"


async def test_the_address_is_free_once_its_way_back_died(stores: Stores) -> None:
    async with stores.mail().begin() as work:
        await work.tokens.issue(
            MailToken(
                token_hash="f" * 64,
                user_id=stores.ada,
                kind=MailKind.RESTORE_EMAIL,
                expires_at=NOW,
                email="ada@old.example.com",
            )
        )

    added = await stores.users.add(replace(user("ada@old.example.com"), created_at=NOW), None)

    assert added.email == "ada@old.example.com"


def restore(user_id: int, hash_char: str, issued: datetime, email: str) -> MailToken:
    return MailToken(
        token_hash=hash_char * 64,
        user_id=user_id,
        kind=MailKind.RESTORE_EMAIL,
        expires_at=issued + timedelta(days=7),
        email=email,
        since=issued - timedelta(hours=1),
    )


async def test_ways_back_issued_later_die_the_earlier_ones_stay(stores: Stores) -> None:
    """Later as issued, whatever the clocks said: ``later`` was stamped by a worker whose
    clock ran a minute behind, so it expires before ``first``. A later one to the mailbox
    of the link used stays: that mailbox keeps its own."""
    first = restore(stores.ada, "1", NOW, "ada@one.example.com")
    later = restore(stores.ada, "2", NOW - timedelta(minutes=1), "ada@two.example.com")
    bobs = restore(stores.bob, "3", NOW + timedelta(minutes=1), "bob@two.example.com")
    to_the_same = restore(stores.ada, "5", NOW + timedelta(minutes=2), "ada@one.example.com")
    for token in (first, later, bobs, to_the_same):
        async with stores.mail().begin() as work:
            await work.tokens.issue(token)

    async def live(token: MailToken) -> Held | None:
        async with stores.mail().begin() as work:
            return await work.tokens.holder(token.token_hash, MailKind.RESTORE_EMAIL, NOW)

    async with stores.mail().begin() as work:
        oldest = await work.tokens.oldest_expiry(stores.ada, MailKind.RESTORE_EMAIL, NOW)
        await work.tokens.discard_issued_after(later.token_hash, MailKind.RESTORE_EMAIL, NOW)
    assert oldest == later.expires_at
    assert await live(first) == Held(
        stores.ada, first.expires_at, "ada@one.example.com", None, first.since
    )
    assert await live(to_the_same) is None  # after ``later``, to another mailbox

    async with stores.mail().begin() as work:
        await work.tokens.issue(replace(to_the_same, token_hash="6" * 64))
        await work.tokens.discard_issued_after(first.token_hash, MailKind.RESTORE_EMAIL, NOW)
        none = await work.tokens.oldest_expiry(stores.bob, MailKind.SECURE_ACCOUNT, NOW)
    assert await live(later) is None
    assert await live(replace(to_the_same, token_hash="6" * 64)) is not None
    assert await live(bobs) is not None
    assert none is None


async def test_a_way_back_holds_its_address_against_everyone_but_its_own_account(
    stores: Stores,
) -> None:
    async with stores.mail().begin() as work:
        await work.tokens.issue(restore(stores.ada, "4", NOW, "ada@old.example.com"))
    async with stores.mail().begin() as work:
        for_bob = await work.tokens.holds("ada@old.example.com", NOW, stores.bob)
        for_ada = await work.tokens.holds("ada@old.example.com", NOW, stores.ada)
        later = await work.tokens.holds("ada@old.example.com", NOW + timedelta(days=8), 0)

    assert (for_bob, for_ada, later) == (True, False, False)


async def test_the_change_answers_whether_the_old_address_was_verified(stores: Stores) -> None:
    async with stores.mail().begin() as work:
        unproven = await work.accounts.change_email(stores.ada, "ada@two.example.com", NOW, None)
        proven = await work.accounts.change_email(stores.ada, "ada@three.example.com", NOW, None)

    assert unproven == PreviousAddress("ada@example.com", verified=False)
    assert proven == PreviousAddress("ada@two.example.com", verified=True)  # verified by it


async def test_an_erased_accounts_way_back_holds_nothing(stores: Stores) -> None:
    async with stores.mail().begin() as work:
        await work.tokens.issue(restore(stores.ada, "5", NOW, "ada@old.example.com"))

    assert await stores.admin.erase(stores.ada, NOW)

    async with stores.mail().begin() as work:
        assert not await work.tokens.holds("ada@old.example.com", NOW, stores.bob)


async def test_an_operators_import_skips_an_address_a_way_back_keeps(stores: Stores) -> None:
    """Else the imported account would have the address, and the way back, finding it
    taken, could never give it back to its owner."""
    async with stores.mail().begin() as work:
        await work.tokens.issue(restore(stores.ada, "6", NOW, "ada@old.example.com"))
    imported = [
        replace(user("ada@old.example.com"), created_at=NOW),
        replace(user("carol@example.com"), created_at=NOW),
    ]

    assert await stores.admin.taken([u.email for u in imported], NOW) == {"ada@old.example.com"}
    assert await stores.admin.insert_new(imported, NOW) == {"carol@example.com"}
    assert await stores.users.get_by_email("ada@old.example.com") is None
    # Once the way back has died, the address is free for an import too.
    later = NOW + timedelta(days=8)
    assert await stores.admin.taken(["ada@old.example.com"], later) == set()
    again = [replace(imported[0], created_at=later)]
    assert await stores.admin.insert_new(again, later) == {"ada@old.example.com"}


async def test_the_address_is_the_accounts_until_the_work_that_saw_it_ends(
    stores: Stores,
) -> None:
    """A mail about to go to the address sees it, and a change waits for that mail's work
    (so the change ends the link it wrote, or the mail sees the new address)."""
    async with stores.mail().begin() as work:
        assert await work.accounts.has_address(stores.ada, "ada@example.com")
        assert not await work.accounts.has_address(stores.ada, "bob@example.com")
        assert not await work.accounts.has_address(10_000, "ada@example.com")

    if isinstance(stores.users, MemoryUserRepository):
        return  # one event loop, no second writer to wait for
    seen = asyncio.Event()
    finish = asyncio.Event()

    async def mail_about_to_go() -> None:
        async with stores.mail().begin() as work:
            assert await work.accounts.has_address(stores.ada, "ada@example.com")
            seen.set()
            await finish.wait()

    mailing = asyncio.create_task(mail_about_to_go())
    await seen.wait()
    changing = asyncio.create_task(change(stores, stores.ada, "ada@new.example.com"))
    await asyncio.sleep(0.2)
    assert not changing.done()  # waits for the mail's work

    finish.set()
    await mailing
    assert await changing == "ada@example.com"
    async with stores.mail().begin() as work:
        assert not await work.accounts.has_address(stores.ada, "ada@example.com")
