"""Sign-in by a mailed code or link: one grant behind both, bound to the asking browser for
the code, single use, five tries, ten minutes; the mailbox proven by it."""

from __future__ import annotations

import dataclasses
import re
from dataclasses import dataclass

import pytest

from application.client import ClientInfo
from application.email_sign_in.complete import EmailSignInCommand
from application.email_sign_in.request import RequestEmailSignInCommand
from application.throttle import Limits
from domain import assurance
from domain.errors import (
    InvalidCredentials,
    InvalidEmailCode,
    InvalidEmailLink,
    MfaRequired,
    TooManyRequests,
)
from tests.fakes.clock import FakeClock
from tests.unit.world import CLIENT, World, build_world

ADA = "ada@example.test"
EVE = "eve@example.test"
LINK = re.compile(r"/email-sign-in\?token=([A-Za-z0-9_-]+)")
CODE = re.compile(r"Your code is (\d{6})\.")


@dataclass(frozen=True)
class Mail:
    request_id: str
    code: str
    token: str


async def ask(world: World, email: str = ADA) -> Mail:
    requested = await world.request_email_sign_in.execute(
        RequestEmailSignInCommand(email=email, captcha_token=None, client=CLIENT)
    )
    assert requested.after_answer is not None
    await requested.after_answer()
    mail = world.mail.queued_to(email)[-1]
    code, token = CODE.search(mail.text), LINK.search(mail.text)
    assert code is not None, mail.text
    assert token is not None, mail.text
    return Mail(requested.request_id, code.group(1), token.group(1))


def with_code(mail: Mail, code: str | None = None, email: str = ADA) -> EmailSignInCommand:
    return EmailSignInCommand(
        client=CLIENT, email=email, code=code or mail.code, request_id=mail.request_id
    )


def with_link(mail: Mail) -> EmailSignInCommand:
    return EmailSignInCommand(client=ClientInfo(ip_address="198.51.100.9"), token=mail.token)


def wrong(code: str) -> str:
    return f"{(int(code) + 1) % 10**6:06d}"


async def test_one_mail_carries_a_six_digit_code_and_a_different_256_bit_link(
    clock: FakeClock,
) -> None:
    world = build_world(clock)
    await world.sign_up_verified(ADA)
    before = len(world.mail.queued_to(ADA))
    mail = await ask(world)
    assert len(world.mail.queued_to(ADA)) == before + 1
    assert len(mail.token) >= 43
    assert mail.code not in mail.token


async def test_the_code_signs_in_with_amr_email_at_aal1(clock: FakeClock) -> None:
    world = build_world(clock)
    await world.sign_up_verified(ADA)
    signed_in = await world.email_sign_in.execute(with_code(await ask(world)))
    claims = await world.claims(signed_in.tokens.access_token)
    assert claims.assurance.amr == assurance.EMAIL_CODE == ("email",)
    assert claims.assurance.acr == "aal1"
    assert claims.assurance.auth_time == clock.now()


async def test_the_code_spends_the_link(clock: FakeClock) -> None:
    world = build_world(clock)
    await world.sign_up_verified(ADA)
    mail = await ask(world)
    await world.email_sign_in.execute(with_code(mail))
    with pytest.raises(InvalidEmailLink):
        await world.email_sign_in.execute(with_link(mail))
    with pytest.raises(InvalidEmailCode):
        await world.email_sign_in.execute(with_code(mail))


async def test_the_link_spends_the_code_and_works_from_any_device(clock: FakeClock) -> None:
    world = build_world(clock)
    await world.sign_up_verified(ADA)
    mail = await ask(world)
    signed_in = await world.email_sign_in.execute(with_link(mail))
    assert signed_in.user.email == ADA
    with pytest.raises(InvalidEmailCode):
        await world.email_sign_in.execute(with_code(mail))
    with pytest.raises(InvalidEmailLink):
        await world.email_sign_in.execute(with_link(mail))


async def test_a_code_from_another_browser_is_refused(clock: FakeClock) -> None:
    world = build_world(clock)
    await world.sign_up_verified(ADA)
    mine, theirs = await ask(world), await ask(world)
    # The right code of my mail, sent with the other browser's request: nothing opens.
    with pytest.raises(InvalidEmailCode):
        await world.email_sign_in.execute(
            EmailSignInCommand(
                client=CLIENT, email=ADA, code=mine.code, request_id=theirs.request_id
            )
        )
    with pytest.raises(InvalidEmailCode):
        await world.email_sign_in.execute(
            EmailSignInCommand(client=CLIENT, email=ADA, code=mine.code, request_id=None)
        )
    assert (await world.email_sign_in.execute(with_code(mine))).user.email == ADA


async def test_the_fifth_wrong_code_kills_the_grant(clock: FakeClock) -> None:
    world = build_world(clock)
    await world.sign_up_verified(ADA)
    mail = await ask(world)
    for _ in range(4):
        with pytest.raises(InvalidEmailCode):
            await world.email_sign_in.execute(with_code(mail, wrong(mail.code)))
    with pytest.raises(InvalidEmailCode):
        await world.email_sign_in.execute(with_code(mail, wrong(mail.code)))
    with pytest.raises(InvalidEmailCode):
        await world.email_sign_in.execute(with_code(mail))  # the right one, too late
    with pytest.raises(InvalidEmailLink):
        await world.email_sign_in.execute(with_link(mail))


async def test_four_wrong_codes_leave_the_right_one_working(clock: FakeClock) -> None:
    world = build_world(clock)
    await world.sign_up_verified(ADA)
    mail = await ask(world)
    for _ in range(4):
        with pytest.raises(InvalidEmailCode):
            await world.email_sign_in.execute(with_code(mail, wrong(mail.code)))
    assert (await world.email_sign_in.execute(with_code(mail))).user.email == ADA


async def test_the_code_of_another_address_is_a_wrong_code(clock: FakeClock) -> None:
    world = build_world(clock)
    await world.sign_up_verified(ADA)
    await world.sign_up_verified("bob@example.test")
    mail = await ask(world)
    with pytest.raises(InvalidEmailCode):
        await world.email_sign_in.execute(with_code(mail, email="bob@example.test"))


async def test_code_and_link_expire_after_ten_minutes(clock: FakeClock) -> None:
    world = build_world(clock)
    await world.sign_up_verified(ADA)
    mail = await ask(world)
    clock.advance(10 * 60 + 1)
    with pytest.raises(InvalidEmailCode):
        await world.email_sign_in.execute(with_code(mail))
    with pytest.raises(InvalidEmailLink):
        await world.email_sign_in.execute(with_link(mail))


async def test_code_tries_count_against_the_login_limits(clock: FakeClock) -> None:
    world = build_world(clock, limits=Limits(login=3))
    await world.sign_up_verified(ADA)
    mail = await ask(world)
    for _ in range(2):
        with pytest.raises(InvalidEmailCode):
            await world.email_sign_in.execute(with_code(mail, wrong(mail.code)))
    with pytest.raises(InvalidCredentials):
        await world.sign_in(ADA, "not the password")
    with pytest.raises(TooManyRequests):
        await world.email_sign_in.execute(with_code(mail))


async def test_code_tries_from_every_address_count_against_the_accounts_daily_cap(
    clock: FakeClock,
) -> None:
    """Five mails an hour, five tries each, from enough addresses: 600 guesses a day at a
    six-digit code, unless the account's daily cap counts them too."""
    world = build_world(clock, limits=Limits(mfa_failures=6))
    await world.sign_up_verified(ADA)
    answers = []
    for round_ in range(2):
        mail = await ask(world)
        for n in range(4):
            elsewhere = ClientInfo(ip_address=f"203.0.113.{10 * round_ + n}")
            try:
                await world.email_sign_in.execute(
                    dataclasses.replace(with_code(mail, wrong(mail.code)), client=elsewhere)
                )
            except (InvalidEmailCode, TooManyRequests) as e:
                answers.append(type(e).__name__)
        clock.advance(3600)

    assert answers == ["InvalidEmailCode"] * 6 + ["TooManyRequests"] * 2


async def test_the_sign_in_proves_the_mailbox_and_drops_a_password_set_before(
    clock: FakeClock,
) -> None:
    world = build_world(clock)
    squatter = await world.sign_up(ADA)  # registered by someone who does not own the mailbox
    mail = await ask(world)
    signed_in = await world.email_sign_in.execute(with_code(mail))
    assert signed_in.user.email_verified
    assert signed_in.user.password_hash is None
    with pytest.raises(InvalidCredentials):
        await world.sign_in(ADA)
    assert "unverified_credentials_dropped" in [e.event for e in world.audit.events]
    squatters_session = await world.sessions.get(squatter.tokens.session_id)
    assert squatters_session is not None
    assert squatters_session.revoked_at is not None


async def test_a_second_factor_is_still_asked_for_after_the_email(clock: FakeClock) -> None:
    world = build_world(clock)
    signed_in = await world.sign_up_verified(ADA)
    await world.totp.start(signed_in.user.id, "sealed", clock.now())
    await world.totp.activate(signed_in.user.id, "sealed", 1, [], clock.now())
    with pytest.raises(MfaRequired) as required:
        await world.email_sign_in.execute(with_code(await ask(world)))
    pending = await world.gate._attempts.take(required.value.mfa_token)
    assert pending.first_factor == assurance.EMAIL_CODE


async def test_an_unknown_address_gets_no_mail_and_nothing_is_created(clock: FakeClock) -> None:
    world = build_world(clock)
    requested = await world.request_email_sign_in.execute(
        RequestEmailSignInCommand(email="nobody@example.test", captcha_token=None, client=CLIENT)
    )
    assert requested.request_id
    assert requested.after_answer is None
    assert world.mail.queued_to("nobody@example.test") == []
    assert world.users.users == {}


async def test_with_sign_up_on_the_first_code_creates_a_verified_account_without_password(
    clock: FakeClock,
) -> None:
    world = build_world(clock, email_sign_up=True)
    mail = await ask(world, "new@example.test")
    assert world.users.users == {}  # asking creates nothing
    signed_in = await world.email_sign_in.execute(with_code(mail, email="new@example.test"))
    assert signed_in.user.email == "new@example.test"
    assert signed_in.user.email_verified
    assert signed_in.user.password_hash is None


async def test_tries_with_anothers_address_on_ones_own_code_never_use_up_their_day(
    clock: FakeClock,
) -> None:
    """Eve asks codes for her own account and types Ada's address with them: each is a wrong
    try at Eve's code, counted against Eve's mailed codes, never against Ada's day (Ada got
    no mail, and her own right code must still sign her in)."""
    cap = 10  # the default is 50: ten of Eve's own mails instead of two
    world = build_world(clock, limits=Limits(mfa_failures=cap))
    await world.sign_up_verified(ADA)
    await world.sign_up_verified(EVE)
    for round_ in range(cap // 5):
        own = await ask(world, EVE)
        for n in range(5):
            elsewhere = ClientInfo(ip_address=f"203.0.113.{10 * round_ + n}")
            command = with_code(own, "000000", email=ADA)
            with pytest.raises(InvalidEmailCode):
                await world.email_sign_in.execute(dataclasses.replace(command, client=elsewhere))

    mail = await ask(world, ADA)
    signed_in = await world.email_sign_in.execute(with_code(mail))

    assert signed_in.user.email == ADA
