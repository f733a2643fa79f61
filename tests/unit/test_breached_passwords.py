"""Pwned Passwords rules on fakes: a breached new password is refused at register, reset and
change; at sign-in it is accepted, flagged and mailed once per password; a corpus that
cannot answer lets the password through with an audit line (fail open)."""

from __future__ import annotations

import re

import pytest

from application.email.change import ChangePasswordCommand
from application.email.recovery import ForgotPasswordCommand, ResetPasswordCommand
from application.login import LoginCommand
from domain.errors import InvalidCredentials, InvalidResetToken, PasswordBreached
from tests.unit.world import CLIENT, PASSWORD, World

ADA = "ada@example.test"
BREACHED = "password123"
FRESH = "a fresh and long passphrase"


async def reset_token(world: World) -> str:
    after_answer = await world.forgot_password.execute(
        ForgotPasswordCommand(email=ADA, captcha_token=None, client=CLIENT)
    )
    assert after_answer is not None
    await after_answer()
    match = re.search(r"token=([\w-]+)", world.mail.queued_to(ADA)[-1].text)
    assert match is not None
    return match.group(1)


async def change(world: World, access_token: str, current: str, new: str) -> None:
    await world.change_password.execute(
        ChangePasswordCommand(
            caller=await world.claims(access_token),
            current_password=current,
            new_password=new,
            client=CLIENT,
        )
    )


def breach_notices(world: World) -> list[str]:
    return [m.subject for m in world.mail.queued_to(ADA) if "Change your" in m.subject]


async def test_register_refuses_a_breached_password_and_creates_nobody(world: World) -> None:
    world.breaches.breached.add(BREACHED)

    with pytest.raises(PasswordBreached):
        await world.sign_up(ADA, BREACHED)

    assert world.users.users == {}
    [refused] = world.audit.named("breached_password_refused")
    assert refused.user_id is None


async def test_register_accepts_a_password_the_corpus_does_not_know(world: World) -> None:
    world.breaches.breached.add(BREACHED)

    await world.sign_up(ADA, FRESH)

    assert world.breaches.asked == [FRESH]


async def test_a_corpus_that_cannot_answer_lets_the_password_through_with_an_audit_line(
    world: World,
) -> None:
    world.breaches.breached.add(BREACHED)
    world.breaches.unavailable = "timeout"

    signed_in = await world.sign_up(ADA, BREACHED)

    [skipped] = world.audit.named("breach_check_unavailable")
    assert skipped.reason == "timeout"
    assert signed_in.user.email == ADA


async def test_reset_refuses_a_breached_password_and_the_link_still_works(world: World) -> None:
    await world.sign_up(ADA)
    world.breaches.breached.add(BREACHED)
    token = await reset_token(world)

    with pytest.raises(PasswordBreached):
        await world.reset_password.execute(
            ResetPasswordCommand(token=token, new_password=BREACHED, client=CLIENT)
        )
    await world.reset_password.execute(
        ResetPasswordCommand(token=token, new_password=FRESH, client=CLIENT)
    )

    await world.sign_in(ADA, FRESH)
    with pytest.raises(InvalidResetToken):
        await world.reset_password.execute(
            ResetPasswordCommand(token=token, new_password=FRESH, client=CLIENT)
        )


async def test_change_refuses_a_breached_password_and_keeps_the_old_one(world: World) -> None:
    signed_in = await world.sign_up(ADA)
    world.breaches.breached.add(BREACHED)

    with pytest.raises(PasswordBreached):
        await change(world, signed_in.tokens.access_token, PASSWORD, BREACHED)

    await world.sign_in(ADA, PASSWORD)
    [refused] = world.audit.named("breached_password_refused")
    assert refused.user_id == signed_in.user.id


async def test_a_breached_password_signs_in_flagged_and_is_mailed_once(world: World) -> None:
    await world.sign_up(ADA)
    world.breaches.breached.add(PASSWORD)  # known from a breach since the sign-up

    first = await world.sign_in(ADA)
    second = await world.sign_in(ADA)

    assert (first.password_breached, second.password_breached) == (True, True)
    assert breach_notices(world) == ["Change your authgate tests password"]
    assert len(world.audit.named("breached_password_signed_in")) == 2


async def test_a_new_password_that_turns_up_in_a_breach_is_mailed_about_again(
    world: World,
) -> None:
    signed_in = await world.sign_up(ADA)
    world.breaches.breached.add(PASSWORD)
    await world.sign_in(ADA)

    await change(world, signed_in.tokens.access_token, PASSWORD, FRESH)
    world.breaches.breached.add(FRESH)
    await world.sign_in(ADA, FRESH)

    assert len(breach_notices(world)) == 2


async def test_a_clean_password_signs_in_unflagged_and_unmailed(world: World) -> None:
    await world.sign_up(ADA)

    signed_in = await world.sign_in(ADA)

    assert signed_in.password_breached is False
    assert breach_notices(world) == []


async def test_sign_in_when_the_corpus_cannot_answer_is_unflagged_and_audited(
    world: World,
) -> None:
    await world.sign_up(ADA)
    world.breaches.breached.add(PASSWORD)
    world.breaches.unavailable = "unreachable"

    signed_in = await world.sign_in(ADA)

    assert signed_in.password_breached is False
    assert [e.reason for e in world.audit.named("breach_check_unavailable")] == ["unreachable"]


async def test_a_wrong_password_is_never_looked_up(world: World) -> None:
    await world.sign_up(ADA)
    world.breaches.asked.clear()

    with pytest.raises(InvalidCredentials):
        await world.login.execute(LoginCommand(email=ADA, password="not it", client=CLIENT))

    assert world.breaches.asked == []
