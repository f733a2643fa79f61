"""The outbox on SQLite and PostgreSQL: claims are leases, no mail goes to two senders, and
with a real SMTP server on loopback that goes down and comes back, every mail is delivered
exactly once."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import timedelta

import pytest

from application.email.sender import DeliveryPolicy, OutboxSender
from domain.ports import OutboxDelivery, OutgoingMail
from infrastructure.mail.smtp import SmtpMailer
from infrastructure.persistence.database import Database
from infrastructure.persistence.mail_work import SqlMailUnitOfWork
from infrastructure.persistence.outbox import SqlOutboxDelivery
from tests.contract.conftest import OWNERS_CREATED
from tests.fakes.clock import FakeClock
from tests.fakes.security import RecordingAudit
from tests.servers.smtp import SmtpSink

NOW = OWNERS_CREATED + timedelta(days=1)
LEASE = timedelta(minutes=5)


def mail(number: int) -> OutgoingMail:
    return OutgoingMail(
        recipient=f"user{number}@example.test",
        subject=f"mail {number}",
        text=f"token=t{number}",
        html=f"<p>{number}</p>",
    )


async def enqueue(database: Database, *numbers: int, due_at: object = NOW) -> None:
    async with SqlMailUnitOfWork(database).begin() as work:
        for number in numbers:
            await work.outbox.enqueue(mail(number), due_at)  # type: ignore[arg-type]


@pytest.fixture
def database(mail_clients: Callable[[], Database]) -> Database:
    return mail_clients()


@pytest.fixture
def outbox(database: Database) -> OutboxDelivery:
    return SqlOutboxDelivery(database)


async def test_a_claimed_mail_is_nobody_elses_until_its_lease_ends(
    outbox: OutboxDelivery, database: Database
) -> None:
    await enqueue(database, 1)

    [first] = await outbox.claim(NOW, LEASE, 10)
    during = await outbox.claim(NOW + LEASE - timedelta(seconds=1), LEASE, 10)
    [after] = await outbox.claim(NOW + LEASE, LEASE, 10)

    assert (first.mail, first.attempts) == (mail(1), 1)
    assert during == []
    assert (after.id, after.attempts) == (first.id, 2)  # a crashed sender lost nothing


async def test_a_mail_is_not_claimed_before_it_is_due(
    outbox: OutboxDelivery, database: Database
) -> None:
    await enqueue(database, 1, due_at=NOW + timedelta(minutes=1))

    assert await outbox.claim(NOW, LEASE, 10) == []
    assert len(await outbox.claim(NOW + timedelta(minutes=1), LEASE, 10)) == 1


async def test_claims_take_the_oldest_first_up_to_the_limit(
    outbox: OutboxDelivery, database: Database
) -> None:
    await enqueue(database, 1, 2, 3)

    claimed = await outbox.claim(NOW, LEASE, 2)

    assert [queued.mail for queued in claimed] == [mail(1), mail(2)]


async def test_a_retried_mail_comes_back_when_due_and_a_sent_one_never(
    outbox: OutboxDelivery, database: Database
) -> None:
    await enqueue(database, 1, 2, 3)
    one, two, three = await outbox.claim(NOW, LEASE, 10)

    await outbox.sent(one.id, NOW)
    await outbox.retry(two.id, NOW + timedelta(minutes=2), "smtp unreachable")
    await outbox.give_up(three.id, NOW, "smtp 550: no such user")

    assert await outbox.claim(NOW + timedelta(minutes=1), LEASE, 10) == []
    [again] = await outbox.claim(NOW + timedelta(minutes=2), LEASE, 10)
    assert (again.id, again.attempts) == (two.id, 2)
    await outbox.sent(again.id, NOW + timedelta(minutes=2))
    assert await outbox.claim(NOW + timedelta(days=30), LEASE, 10) == []


async def test_a_sent_mail_keeps_no_token_at_rest(
    outbox: OutboxDelivery, database: Database
) -> None:
    await enqueue(database, 1)
    [queued] = await outbox.claim(NOW, LEASE, 10)

    await outbox.sent(queued.id, NOW)

    async with database.transaction(write=False) as tx:
        row = await tx.fetchone("SELECT text, html, sent_at FROM outbox")
    assert row is not None
    assert (row["text"], row["html"]) == ("", "")
    assert row["sent_at"] is not None


async def subjects(database: Database) -> list[str]:
    async with database.transaction(write=False) as tx:
        rows = await tx.fetchall("SELECT subject FROM outbox ORDER BY id")
    return [str(row["subject"]) for row in rows]


async def test_mails_settled_before_the_cutoff_are_deleted_and_waiting_ones_never(
    outbox: OutboxDelivery, database: Database
) -> None:
    await enqueue(database, 1, 2, 3, 4, 5)
    one, two, three, four, _ = await outbox.claim(NOW, LEASE, 10)
    await outbox.sent(one.id, NOW)
    await outbox.give_up(two.id, NOW, "smtp 550: no such user")
    await outbox.sent(three.id, NOW + timedelta(days=2))
    await outbox.retry(four.id, NOW + timedelta(minutes=2), "smtp unreachable")

    assert await outbox.delete_settled(NOW + timedelta(days=1), 10) == 2

    assert await subjects(database) == ["mail 3", "mail 4", "mail 5"]
    assert await outbox.delete_settled(NOW + timedelta(days=100), 10) == 1
    assert await subjects(database) == ["mail 4", "mail 5"]  # however old, they still wait
    assert await outbox.backlog(NOW) == (2, 0.0)


async def test_settled_mails_go_at_most_limit_a_call(
    outbox: OutboxDelivery, database: Database
) -> None:
    await enqueue(database, *range(5))
    for queued in await outbox.claim(NOW, LEASE, 10):
        await outbox.sent(queued.id, NOW)

    counts = [await outbox.delete_settled(NOW + timedelta(seconds=1), 2) for _ in range(4)]

    assert counts == [2, 2, 1, 0]
    assert await subjects(database) == []


async def test_concurrent_claims_never_share_a_mail(
    mail_clients: Callable[[], Database], database: Database
) -> None:
    await enqueue(database, *range(30))
    claimers = [SqlOutboxDelivery(mail_clients()) for _ in range(6)]

    rounds = await asyncio.gather(*(c.claim(NOW, LEASE, 4) for c in claimers for _ in range(2)))

    ids = [queued.id for claimed in rounds for queued in claimed]
    assert len(ids) == len(set(ids)) == 30


# --- Through the sender to a real SMTP server --------------------------------------------------


def sender(
    database: Database, smtp: SmtpSink, clock: FakeClock, audit: RecordingAudit
) -> OutboxSender:
    return OutboxSender(
        outbox=SqlOutboxDelivery(database),
        mailer=SmtpMailer(smtp.url, "authgate@example.test", timeout=2),
        policy=DeliveryPolicy(give_up_after=timedelta(hours=2), batch=5),
        clock=clock,
        audit=audit,
    )


async def test_mails_queued_while_smtp_is_down_arrive_exactly_once_when_it_returns(
    mail_clients: Callable[[], Database], smtp: SmtpSink
) -> None:
    clock, audit = FakeClock(NOW), RecordingAudit()
    # Two senders, as two workers would run, each on its own connection to one database.
    senders = [sender(mail_clients(), smtp, clock, audit) for _ in range(2)]
    await enqueue(mail_clients(), *range(12))
    smtp.stop()

    for _ in range(3):  # each round fails; the retries wait 30 s, 1 min, 2 min
        await asyncio.gather(*(s.deliver_due() for s in senders))
        clock.advance(121)
    assert smtp.messages == []

    smtp.start()  # the same port again
    while sum(await asyncio.gather(*(s.deliver_due() for s in senders))):
        pass
    clock.advance(3600)
    await asyncio.gather(*(s.deliver_due() for s in senders))

    assert sorted(str(m["Subject"]) for m in smtp.messages) == sorted(
        f"mail {n}" for n in range(12)
    )
    assert audit.named("mail_given_up") == []


async def test_a_permanent_refusal_is_given_up_with_an_audit_event(
    database: Database, smtp: SmtpSink
) -> None:
    clock, audit = FakeClock(NOW), RecordingAudit()
    await enqueue(database, 1)
    smtp.reply = "550 5.1.1 No such user"

    assert await sender(database, smtp, clock, audit).deliver_due() == 1

    [event] = audit.named("mail_given_up")
    assert event.reason is not None
    assert event.reason.startswith("smtp 550")
    clock.advance(86400)
    assert await sender(database, smtp, clock, audit).deliver_due() == 0


async def test_a_transient_refusal_is_retried_until_the_give_up_time(
    database: Database, smtp: SmtpSink
) -> None:
    clock, audit = FakeClock(NOW), RecordingAudit()
    await enqueue(database, 1)
    smtp.reply = "451 4.3.0 Try again later"
    delivering = sender(database, smtp, clock, audit)

    attempts = 0
    while not audit.named("mail_given_up"):
        attempts += await delivering.deliver_due()
        clock.advance(3600)

    assert smtp.messages == []
    assert 3 <= attempts <= 6  # 30 s, 1, 2, 4 … min backoff inside the two hours


async def test_the_backlog_counts_waiting_mails_and_the_oldest_ones_age(
    outbox: OutboxDelivery, database: Database
) -> None:
    assert await outbox.backlog(NOW) == (0, None)
    await enqueue(database, 1, 2, 3)
    one, _, three = await outbox.claim(NOW, LEASE, 10)
    await outbox.sent(one.id, NOW)
    await outbox.give_up(three.id, NOW, "smtp 550: no such user")

    depth, age = await outbox.backlog(NOW + timedelta(minutes=3))
    assert depth == 1  # the claimed one still waits; sent and given-up ones do not
    assert age == pytest.approx(180.0)
