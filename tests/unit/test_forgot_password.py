"""Forgot password answers before the reset mail is queued, so a known address costs the
request what an unknown one does; the mail is queued right after the answer."""

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

    after_answer = await world.forgot_password.execute(forgot(ADA))
    assert len(world.mail.queued_to(ADA)) == queued_at_sign_up

    assert after_answer is not None
    await after_answer()
    [reset] = world.mail.queued_to(ADA)[queued_at_sign_up:]
    assert "reset" in reset.subject.lower()


async def test_an_unknown_address_queues_nothing_then_either(clock: FakeClock) -> None:
    world = build_world(clock)
    assert await world.forgot_password.execute(forgot("nobody@example.test")) is None
    assert world.mail.queued_to("nobody@example.test") == []
