"""Forgot password answers before the reset mail is queued, so a known address costs the
request what an unknown one does; the mail is queued right after (and before shutdown)."""

from __future__ import annotations

from application.email.recovery import ForgotPasswordCommand
from tests.fakes.clock import FakeClock
from tests.unit.world import CLIENT, build_world

ADA = "ada@example.test"


def forgot(email: str) -> ForgotPasswordCommand:
    return ForgotPasswordCommand(email=email, captcha_token=None, client=CLIENT)


async def test_the_reset_mail_is_queued_after_the_answer_not_before(clock: FakeClock) -> None:
    world = build_world(clock)
    await world.sign_up(ADA)
    queued_at_sign_up = len(world.mail.queued_to(ADA))

    await world.email.forgot_password.execute(forgot(ADA))
    assert len(world.mail.queued_to(ADA)) == queued_at_sign_up

    await world.email.forgot_password.settle()
    [reset] = world.mail.queued_to(ADA)[queued_at_sign_up:]
    assert "reset" in reset.subject.lower()


async def test_an_unknown_address_queues_nothing_then_either(clock: FakeClock) -> None:
    world = build_world(clock)
    await world.email.forgot_password.execute(forgot("nobody@example.test"))
    await world.email.forgot_password.settle()
    assert world.mail.queued_to("nobody@example.test") == []
