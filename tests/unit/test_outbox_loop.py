"""The sender loops: a mail or a delivery that fails in a way nobody foresaw fails alone (it
is retried, then given up), never the loop that sends every other; and each outbox has a
loop of its own, so a receiver that hangs at every delivery slows only its own."""

from __future__ import annotations

import asyncio
from datetime import timedelta

from application.email.sender import DeliveryPolicy, OutboxSender
from application.outbox_loop import OutboxLoop
from domain.ports import OutgoingMail
from tests.fakes.clock import FakeClock
from tests.fakes.mail import MemoryMail, RecordingMailer
from tests.fakes.repositories import MemoryUserRepository
from tests.fakes.security import RecordingAudit

POISON = "poison@example.test"


class BreaksOnOne(RecordingMailer):
    """A mailer whose message for one address cannot be built (the email package raises)."""

    async def send(self, mail: OutgoingMail) -> None:
        if mail.recipient == POISON:
            raise ValueError("address parts cannot contain CR or LF")
        await super().send(mail)


def mail_to(recipient: str) -> OutgoingMail:
    return OutgoingMail(recipient=recipient, subject="s", text="t", html="h")


async def test_a_mail_that_breaks_the_mailer_is_retried_and_the_others_go() -> None:
    clock, outbox, mailer = FakeClock(), MemoryMail(MemoryUserRepository()), BreaksOnOne()
    await outbox.enqueue(mail_to(POISON), clock.now())
    await outbox.enqueue(mail_to("ada@example.test"), clock.now())
    sender = OutboxSender(
        outbox=outbox,
        mailer=mailer,
        policy=DeliveryPolicy(give_up_after=timedelta(days=1)),
        clock=clock,
        audit=RecordingAudit(),
    )

    assert await sender.deliver_due() == 2

    assert [mail.recipient for mail in mailer.delivered] == ["ada@example.test"]
    [poisoned] = [row for row in outbox.rows.values() if row.mail.recipient == POISON]
    assert (poisoned.sent_at, poisoned.failed_at) == (None, None)
    assert poisoned.due_at > clock.now()  # retried later, with backoff
    clock.advance(2 * 24 * 3600)
    assert await sender.deliver_due() == 1
    assert poisoned.failed_at is not None  # and given up in the end


class Counting:
    def __init__(self) -> None:
        self.rounds = 0

    async def deliver_due(self) -> int:
        self.rounds += 1
        return 0


class Broken:
    async def deliver_due(self) -> int:
        raise RuntimeError("a bug in one outbox")


class Hanging:
    async def deliver_due(self) -> int:
        await asyncio.sleep(30)  # a receiver that answers at its timeout, every time
        return 1


async def test_a_round_that_fails_or_hangs_never_stops_the_other_outbox() -> None:
    for other in (Broken(), Hanging()):
        mail = Counting()
        loop = OutboxLoop([other, mail], poll_interval=0.01, batch=20)
        stop = asyncio.Event()
        running = asyncio.create_task(loop.run(stop))
        await asyncio.sleep(0.3)

        assert not running.done()
        assert mail.rounds > 5
        stop.set()
        running.cancel()
        await asyncio.gather(running, return_exceptions=True)
