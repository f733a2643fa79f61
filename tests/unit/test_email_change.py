"""Changing the address, its rules on the fakes: the old address kept for the way back while
its link lives (an operator's import included), the way back when the address was taken all
the same, and the limits of asking (tests/http/test_email_change.py has the flows over HTTP)."""

from __future__ import annotations

import json
import re
from dataclasses import replace
from typing import Any

import pytest

from application.devices.secure import SecureAccountCommand
from application.email.address import ChangeEmailCommand, RequestEmailChangeCommand
from application.email.recovery import ForgotPasswordCommand
from application.email.verification import RequestVerificationCommand
from domain.entities import User
from domain.errors import (
    EmailTaken,
    InvalidAccessToken,
    InvalidSecureToken,
    InvalidVerificationToken,
    StorageUnavailable,
    TooManyRequests,
)
from tests.unit.world import CLIENT, World

ADA = "ada@example.test"
NEW = "ada.new@example.test"
LINK = re.compile(r"token=([A-Za-z0-9_-]+)")
IMPORTED = "$2b$12$" + "R9h/cIPz0gi.URNNX3kh2O" + "PST9/PgBkqquzi.Ss7KIUgO2t0jWMUW"


def last_link(world: World, to: str, subject: str) -> str:
    [mail, *_] = [m for m in reversed(world.mail.queued_to(to)) if m.subject.startswith(subject)]
    found = LINK.search(mail.text)
    assert found, mail.text
    return found.group(1)


async def moved(world: World) -> int:
    """Ada's account (its address verified), moved to NEW; its id."""
    signed_up = await world.sign_up_verified(ADA)
    caller = await world.claims(signed_up.tokens.access_token)
    await world.request_email_change.execute(
        RequestEmailChangeCommand(caller=caller, email=NEW, client=CLIENT)
    )
    token = last_link(world, NEW, "Confirm your new email address")
    await world.change_email.execute(ChangeEmailCommand(token=token, client=CLIENT))
    return signed_up.user.id


async def test_the_old_address_is_kept_for_the_way_back_while_its_link_lives(world: World):
    await moved(world)

    with pytest.raises(EmailTaken):
        await world.sign_up(ADA)
    world.clock.advance(7 * 24 * 3600 + 1)  # the link died: the address is free
    assert (await world.sign_up(ADA)).user.email == ADA


async def test_an_operators_import_skips_the_address_kept_for_the_way_back(world: World):
    await moved(world)
    lines = [json.dumps({"email": ADA, "password_hash": IMPORTED})]

    rehearsed = await world.import_users.execute(lines, dry_run=True)
    report = await world.import_users.execute(lines)

    for outcome in (rehearsed, report):
        assert (outcome.imported, outcome.problems) == (
            0,
            ["line 1: email already exists, skipped"],
        )
    assert await world.users.get_by_email(ADA) is None


async def test_an_address_an_import_took_meanwhile_stays_taken_and_the_reset_goes_there(
    world: World,
):
    user_id = await moved(world)
    way_back = last_link(world, ADA, "Your email address was changed")
    # Taken behind the rules' back (a row written by hand, say).
    imported = replace(world.users.users[user_id], id=99, email=ADA)
    world.users.users[imported.id] = imported

    await world.secure_account.execute(SecureAccountCommand(token=way_back, client=CLIENT))

    account: User = world.users.users[user_id]
    assert account.email == NEW
    assert account.password_hash is None  # blocked until the reset
    assert [e.reason for e in world.audit.named("email_restore_failed")] == ["email_taken"]
    assert last_link(world, ADA, "Reset your")  # to the mailbox that clicked, not to NEW
    assert [m for m in world.mail.queued_to(NEW) if m.subject.startswith("Reset")] == []


async def test_asking_is_limited_apart_from_verification_mails_and_before_any_look(
    world: World,
):
    signed_up = await world.sign_up(ADA)
    await world.sign_up("taken@example.test")
    caller = await world.claims(signed_up.tokens.access_token)
    for n in range(3):
        await world.request_email_change.execute(
            RequestEmailChangeCommand(caller=caller, email=f"typo{n}@example.test", client=CLIENT)
        )

    with pytest.raises(TooManyRequests):  # a taken address answers as any other
        await world.request_email_change.execute(
            RequestEmailChangeCommand(caller=caller, email="taken@example.test", client=CLIENT)
        )
    # Verification mails have their own count: the typos used none of it.
    await world.request_verification.execute(
        RequestVerificationCommand(caller=caller, client=CLIENT)
    )


async def test_a_backend_down_as_the_sessions_end_leaves_the_link_to_open_again(world: World):
    """Half-done would be the address moved with the other sessions still live, and the
    spent link unable to finish it."""
    signed_up = await world.sign_up_verified(ADA)
    elsewhere = await world.sign_in(ADA)
    caller = await world.claims(signed_up.tokens.access_token)
    await world.request_email_change.execute(
        RequestEmailChangeCommand(caller=caller, email=NEW, client=CLIENT)
    )
    token = last_link(world, NEW, "Confirm your new email address")
    world.grants_down_once()
    command = ChangeEmailCommand(token=token, client=CLIENT)

    with pytest.raises(StorageUnavailable):
        await world.change_email.execute(command)
    assert world.users.users[signed_up.user.id].email == ADA  # nothing moved

    assert (await world.change_email.execute(command)).email == NEW
    with pytest.raises(InvalidAccessToken):
        await world.claims(elsewhere.tokens.access_token)


async def test_a_confirmation_beaten_by_its_twin_finds_its_link_spent_not_the_address_taken(
    world: World,
):
    """Two opens of one link at once: the one that loses reads the link before the winner
    spends it, then finds the address on its own account."""
    signed_up = await world.sign_up_verified(ADA)
    caller = await world.claims(signed_up.tokens.access_token)
    await world.request_email_change.execute(
        RequestEmailChangeCommand(caller=caller, email=NEW, client=CLIENT)
    )
    command = ChangeEmailCommand(token=last_link(world, NEW, "Confirm your new"), client=CLIENT)
    real_list_live = world.sessions.list_live
    twin: list[User] = []
    started: list[bool] = []

    async def twin_wins_meanwhile(*args: Any) -> Any:
        if not started:
            started.append(True)
            twin.append(await world.change_email.execute(command))
        return await real_list_live(*args)

    world.sessions.list_live = twin_wins_meanwhile  # type: ignore[method-assign, assignment]

    with pytest.raises(InvalidVerificationToken):
        await world.change_email.execute(command)
    assert [user.email for user in twin] == [NEW]


async def test_a_reset_asked_at_the_old_address_as_the_change_lands_is_never_mailed_there(
    world: World,
):
    """The forgot-password request read the account at ADA; its mail is written after the
    answer, by when the change to NEW has ended every link at ADA: a reset link mailed
    there then would take the account from the mailbox it just left."""
    signed_up = await world.sign_up_verified(ADA)
    caller = await world.claims(signed_up.tokens.access_token)
    await world.request_email_change.execute(
        RequestEmailChangeCommand(caller=caller, email=NEW, client=CLIENT)
    )
    after_answer = await world.forgot_password.execute(
        ForgotPasswordCommand(email=ADA, captcha_token=None, client=CLIENT)
    )
    assert after_answer is not None
    token = last_link(world, NEW, "Confirm your new email address")
    await world.change_email.execute(ChangeEmailCommand(token=token, client=CLIENT))

    await after_answer()

    assert [m for m in world.mail.queued_to(ADA) if m.subject.startswith("Reset")] == []


async def test_the_owners_way_back_ends_a_later_one_whatever_the_workers_clocks_said(
    world: World,
):
    """ADA → EVE → MAL, the second change confirmed on a worker whose clock runs two minutes
    behind: its way back (to EVE, the intruder's) still counts as the later one."""
    user_id = await moved(world)  # ADA → NEW ("EVE"), the owner's way back mailed to ADA
    owners = last_link(world, ADA, "Your email address was changed")
    again = await world.sign_in(NEW)
    caller = await world.claims(again.tokens.access_token)
    await world.request_email_change.execute(
        RequestEmailChangeCommand(caller=caller, email="mal@example.test", client=CLIENT)
    )
    world.clock.advance(-120)
    token = last_link(world, "mal@example.test", "Confirm your new email address")
    await world.change_email.execute(ChangeEmailCommand(token=token, client=CLIENT))
    intruders = last_link(world, NEW, "Your email address was changed")

    await world.secure_account.execute(SecureAccountCommand(token=owners, client=CLIENT))

    assert world.users.users[user_id].email == ADA
    with pytest.raises(InvalidSecureToken):
        await world.secure_account.execute(SecureAccountCommand(token=intruders, client=CLIENT))
    assert world.users.users[user_id].email == ADA
