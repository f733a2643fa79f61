"""Mail tokens and the unit of work they share with the outbox, on SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import replace
from datetime import timedelta

import pytest

from domain.ports import MailKind, MailToken, MailUnitOfWork, OutgoingMail
from infrastructure.persistence.database import Database
from infrastructure.persistence.mail_work import SqlMailUnitOfWork
from infrastructure.persistence.users import SqlUserRepository
from tests.contract.conftest import OWNERS_CREATED

NOW = OWNERS_CREATED + timedelta(days=1)
VERIFY, RESET = MailKind.VERIFY_EMAIL, MailKind.RESET_PASSWORD
MAIL = OutgoingMail(recipient="one@example.com", subject="s", text="t", html="<p>h</p>")


def token(hash_: str = "a" * 64, *, user_id: int = 1, kind: MailKind = VERIFY) -> MailToken:
    return MailToken(
        token_hash=hash_, user_id=user_id, kind=kind, expires_at=NOW + timedelta(hours=1)
    )


@pytest.fixture
def database(mail_clients: Callable[[], Database]) -> Database:
    return mail_clients()


@pytest.fixture
def mail(database: Database) -> MailUnitOfWork:
    return SqlMailUnitOfWork(database)


async def issue(mail: MailUnitOfWork, *tokens: MailToken) -> None:
    async with mail.begin() as work:
        for each in tokens:
            await work.tokens.issue(each)
            await work.outbox.enqueue(MAIL, NOW)


async def redeem(mail: MailUnitOfWork, hash_: str, kind: MailKind, at: object = NOW) -> int | None:
    async with mail.begin() as work:
        return await work.tokens.redeem(hash_, kind, at)  # type: ignore[arg-type]


async def outbox_size(database: Database) -> int:
    async with database.transaction(write=False) as tx:
        row = await tx.fetchone("SELECT COUNT(*) AS n FROM outbox")
    assert row is not None
    return int(row["n"])


async def test_a_token_redeems_once_for_its_user(mail: MailUnitOfWork) -> None:
    await issue(mail, token())

    assert await redeem(mail, "a" * 64, VERIFY) == 1
    assert await redeem(mail, "a" * 64, VERIFY) is None


async def test_a_token_of_another_kind_is_refused_and_stays_usable(mail: MailUnitOfWork) -> None:
    await issue(mail, token(kind=RESET))

    assert await redeem(mail, "a" * 64, VERIFY) is None
    assert await redeem(mail, "a" * 64, RESET) == 1


async def test_an_expired_or_unknown_token_is_refused(mail: MailUnitOfWork) -> None:
    await issue(mail, token())

    assert await redeem(mail, "a" * 64, VERIFY, NOW + timedelta(hours=1)) is None
    assert await redeem(mail, "b" * 64, VERIFY) is None


async def holder(mail: MailUnitOfWork, hash_: str, kind: MailKind, at: object = NOW) -> int | None:
    async with mail.begin() as work:
        held = await work.tokens.holder(hash_, kind, at)  # type: ignore[arg-type]
    return None if held is None else held.user_id


async def test_a_tokens_holder_is_read_without_spending_it(mail: MailUnitOfWork) -> None:
    await issue(mail, token(kind=RESET))

    assert await holder(mail, "a" * 64, RESET) == 1
    assert await holder(mail, "a" * 64, RESET) == 1
    assert await holder(mail, "a" * 64, VERIFY) is None  # another kind
    assert await holder(mail, "a" * 64, RESET, NOW + timedelta(hours=1)) is None  # expired
    assert await redeem(mail, "a" * 64, RESET) == 1  # still unspent
    assert await holder(mail, "a" * 64, RESET) is None  # spent


async def test_the_holder_tells_when_the_token_expires(mail: MailUnitOfWork) -> None:
    await issue(mail, token(kind=RESET))

    async with mail.begin() as work:
        held = await work.tokens.holder("a" * 64, RESET, NOW)
    assert held is not None
    assert (held.user_id, held.expires_at) == (1, NOW + timedelta(hours=1))


async def test_discard_kills_every_token_of_that_user_and_kind_only(mail: MailUnitOfWork) -> None:
    await issue(
        mail,
        token("a" * 64, kind=RESET),
        token("b" * 64, kind=RESET),
        token("c" * 64, kind=VERIFY),
        token("d" * 64, user_id=2, kind=RESET),
    )

    async with mail.begin() as work:
        await work.tokens.discard(1, RESET, NOW)

    assert await redeem(mail, "a" * 64, RESET) is None
    assert await redeem(mail, "b" * 64, RESET) is None
    assert await redeem(mail, "c" * 64, VERIFY) == 1
    assert await redeem(mail, "d" * 64, RESET) == 2


async def test_an_error_in_the_unit_of_work_keeps_neither_token_nor_mail(
    mail: MailUnitOfWork, database: Database
) -> None:
    async def crash_before_commit() -> None:
        async with mail.begin() as work:
            await work.tokens.issue(token())
            await work.outbox.enqueue(MAIL, NOW)
            raise RuntimeError("crash before commit")

    with pytest.raises(RuntimeError):
        await crash_before_commit()

    assert await redeem(mail, "a" * 64, VERIFY) is None
    assert await outbox_size(database) == 0


async def test_the_token_of_a_deleted_user_is_gone_with_it(
    mail: MailUnitOfWork, database: Database
) -> None:
    await issue(mail, token())

    await SqlUserRepository(database).remove(1)

    assert await redeem(mail, "a" * 64, VERIFY) is None


async def test_proving_the_email_marks_it_verified_and_a_reset_sets_the_password(
    mail: MailUnitOfWork, database: Database
) -> None:
    users = SqlUserRepository(database)
    async with mail.begin() as work:
        await work.accounts.mark_verified(1, NOW, told=None)
        await work.accounts.set_password(2, None, NOW, verified=False, told=None)

    one, two = await users.get(1), await users.get(2)
    assert one is not None
    assert one.email_verified_at == NOW
    assert two is not None
    assert (two.password_hash, two.email_verified_at) == (None, None)


async def test_of_twenty_concurrent_redeems_exactly_one_wins(
    mail_clients: Callable[[], Database],
) -> None:
    first = SqlMailUnitOfWork(mail_clients())
    await issue(first, token())
    racers = [SqlMailUnitOfWork(mail_clients()) for _ in range(20)]

    results = await asyncio.gather(*(redeem(racer, "a" * 64, VERIFY) for racer in racers))

    assert sorted(results, key=lambda r: r is None) == [1] + [None] * 19


async def test_tokens_expired_before_the_cutoff_are_deleted_used_or_not(
    mail: MailUnitOfWork, database: Database
) -> None:
    hour = timedelta(hours=1)
    await issue(mail, token("a" * 64), token("b" * 64), token("c" * 64, kind=RESET))
    assert await redeem(mail, "b" * 64, VERIFY) == 1
    cutoff = NOW + hour + timedelta(seconds=1)  # all three expire at NOW + 1 h

    async with mail.begin() as work:
        assert await work.tokens.delete_expired(NOW + hour, 10) == 0  # not before: kept
    assert await redeem(mail, "a" * 64, VERIFY) == 1
    await issue(mail, replace(token("d" * 64), expires_at=cutoff + hour))
    async with mail.begin() as work:
        assert await work.tokens.delete_expired(cutoff, 2) == 2
    async with mail.begin() as work:
        assert await work.tokens.delete_expired(cutoff, 2) == 1
        assert await work.tokens.delete_expired(cutoff, 2) == 0

    async with database.transaction(write=False) as tx:
        rows = await tx.fetchall("SELECT hash FROM mail_tokens")
    assert [row["hash"] for row in rows] == ["d" * 64]
    assert await redeem(mail, "d" * 64, VERIFY, NOW) == 1
