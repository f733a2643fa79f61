"""Second factors nobody can plant: enrolment needs a verified address, proving the mailbox
removes what was enrolled before, turning the app on ends the other sessions, and every
change mails a notice."""

from __future__ import annotations

import re
from datetime import datetime

import pyotp
import pytest

from application.email.change import ChangePasswordCommand
from application.email.recovery import ForgotPasswordCommand, ResetPasswordCommand
from application.email.verification import VerifyEmailCommand
from application.mfa.passkeys import RemovePasskeyCommand
from application.mfa.totp import TotpCodeCommand
from domain.entities import NewPasskey
from domain.errors import EmailNotVerified, InvalidAccessToken, StorageUnavailable
from tests.fakes.authenticator import SoftAuthenticator
from tests.unit.world import CLIENT, ISSUER, PASSWORD, World

ADA = "ada@example.test"


def link_token(world: World, subject_start: str) -> str:
    mail = [m for m in world.mail.queued_to(ADA) if m.subject.startswith(subject_start)][-1]
    found = re.search(r"token=([A-Za-z0-9_-]+)", mail.text)
    assert found is not None
    return found.group(1)


def a_passkey(user_id: int, credential_id: bytes, at: datetime) -> NewPasskey:
    return NewPasskey(
        user_id=user_id,
        credential_id=credential_id,
        public_key=b"key",
        sign_count=0,
        transports=(),
        user_handle=b"h" * 32,
        name=None,
        created_at=at,
    )


def subjects(world: World) -> list[str]:
    return [m.subject for m in world.mail.queued_to(ADA)]


async def plant(world: World, user_id: int) -> None:
    """An app and a passkey enrolled while the address was unverified (data from before
    enrolment needed a verified address)."""
    now = world.clock.now()
    await world.totp.start(user_id, "sealed", now)
    await world.totp.activate(user_id, "sealed", 1, [], now)
    await world.passkeys.add(a_passkey(user_id, b"planted", now))
    world.clock.advance(60)


async def test_an_unverified_address_can_enrol_no_app_and_no_passkey(world: World):
    signed_in = await world.sign_up(ADA)
    claims = await world.claims(signed_in.tokens.access_token)

    with pytest.raises(EmailNotVerified):
        await world.setup_totp.execute(claims)
    with pytest.raises(EmailNotVerified):
        await world.start_passkey_registration.execute(claims)
    assert await world.totp.get(signed_in.user.id) is None


async def test_verifying_the_address_removes_planted_factors_and_ends_other_sessions(
    world: World,
):
    intruder = await world.sign_up(ADA)
    await plant(world, intruder.user.id)

    verified = await world.verify_email.execute(
        VerifyEmailCommand(token=link_token(world, "Confirm"), client=CLIENT)
    )

    assert verified.email_verified
    assert await world.totp.get(intruder.user.id) is None
    assert await world.passkeys.of_user(intruder.user.id) == []
    with pytest.raises(InvalidAccessToken):
        await world.claims(intruder.tokens.access_token)
    assert [e.reason for e in world.audit.named("passkey_removed")] == ["enrolled_unverified"]
    assert any("Second factors were removed" in s for s in subjects(world))


async def test_a_backend_down_as_the_sessions_end_leaves_the_verification_link_to_open_again(
    world: World,
):
    """Half-done would be the address verified with the sessions of whoever signed up with
    it still live, and the spent link unable to end them."""
    squatter = await world.sign_up(ADA)
    world.grants_down_once()
    command = VerifyEmailCommand(token=link_token(world, "Confirm"), client=CLIENT)

    with pytest.raises(StorageUnavailable):
        await world.verify_email.execute(command)
    assert not world.users.users[squatter.user.id].email_verified  # nothing moved

    assert (await world.verify_email.execute(command)).email_verified
    with pytest.raises(InvalidAccessToken):
        await world.claims(squatter.tokens.access_token)


async def test_verifying_keeps_the_callers_own_session(world: World):
    here = await world.sign_up(ADA)
    elsewhere = await world.sign_in(ADA)

    await world.verify_email.execute(
        VerifyEmailCommand(
            token=link_token(world, "Confirm"),
            client=CLIENT,
            bearer_token=here.tokens.access_token,
        )
    )

    assert (await world.claims(here.tokens.access_token)).user_id == here.user.id
    with pytest.raises(InvalidAccessToken):
        await world.claims(elsewhere.tokens.access_token)


async def test_a_reset_removes_planted_factors_and_keeps_those_enrolled_when_verified(
    world: World,
):
    signed_in = await world.sign_up(ADA)
    await plant(world, signed_in.user.id)
    await world.verified(signed_in.user.id)
    world.clock.advance(1)
    later = await world.passkeys.add(a_passkey(signed_in.user.id, b"later", world.clock.now()))
    # Already verified: a reset proves nothing new, and a factor enrolled since stays.
    await world.reset_password.execute(
        ResetPasswordCommand(
            token=await reset_token(world), new_password="a new password", client=CLIENT
        )
    )
    assert [p.id for p in await world.passkeys.of_user(signed_in.user.id)] == [later.id]
    assert await world.totp.get(signed_in.user.id) is None  # enrolled before the proof
    assert any("Your password was changed" in s for s in subjects(world))


# --- Passkey-first accounts: the sign-up passkey is the account's credential ---------------


async def test_verifying_a_passkey_first_address_keeps_its_sign_up_passkey(world: World):
    owner = await world.sign_up_with_passkey(SoftAuthenticator(ISSUER))
    [sign_up_passkey] = await world.passkeys.of_user(owner.user.id)
    world.clock.advance(60)

    verified = await world.verify_email.execute(
        VerifyEmailCommand(
            token=link_token(world, "Confirm"),
            client=CLIENT,
            bearer_token=owner.tokens.access_token,
        )
    )

    assert verified.email_verified
    assert await world.passkeys.of_user(owner.user.id) == [sign_up_passkey]
    assert world.audit.named("passkey_removed") == []
    assert not any("Second factors were removed" in s for s in subjects(world))


async def test_verifying_still_removes_what_was_planted_beside_the_sign_up_passkey(
    world: World,
):
    owner = await world.sign_up_with_passkey(SoftAuthenticator(ISSUER))
    [sign_up_passkey] = await world.passkeys.of_user(owner.user.id)
    await plant(world, owner.user.id)

    await world.verify_email.execute(
        VerifyEmailCommand(token=link_token(world, "Confirm"), client=CLIENT)
    )

    assert await world.passkeys.of_user(owner.user.id) == [sign_up_passkey]
    assert await world.totp.get(owner.user.id) is None
    assert [e.reason for e in world.audit.named("passkey_removed")] == ["enrolled_unverified"]


async def test_a_reset_of_an_unverified_passkey_first_account_removes_its_sign_up_passkey(
    world: World,
):
    # Someone signed up with Ada's address and a passkey of theirs; Ada, who owns the
    # mailbox, resets the password: the stranger's passkey goes as a password would.
    stranger = SoftAuthenticator(ISSUER)
    intruder = await world.sign_up_with_passkey(stranger)
    world.clock.advance(60)

    await world.reset_password.execute(
        ResetPasswordCommand(
            token=await reset_token(world), new_password="a new password", client=CLIENT
        )
    )

    assert await world.passkeys.of_user(intruder.user.id) == []
    with pytest.raises(InvalidAccessToken):
        await world.claims(intruder.tokens.access_token)
    assert any("Second factors were removed" in s for s in subjects(world))


async def test_a_reset_after_the_address_was_verified_keeps_the_sign_up_passkey(world: World):
    owner = await world.sign_up_with_passkey(SoftAuthenticator(ISSUER))
    [sign_up_passkey] = await world.passkeys.of_user(owner.user.id)
    await world.verify_email.execute(
        VerifyEmailCommand(token=link_token(world, "Confirm"), client=CLIENT)
    )
    world.clock.advance(60)

    await world.reset_password.execute(
        ResetPasswordCommand(
            token=await reset_token(world), new_password="a new password", client=CLIENT
        )
    )

    assert await world.passkeys.of_user(owner.user.id) == [sign_up_passkey]


async def reset_token(world: World) -> str:
    after = await world.forgot_password.execute(
        ForgotPasswordCommand(email=ADA, captcha_token=None, client=CLIENT)
    )
    assert after is not None
    await after()
    return link_token(world, "Reset")


async def test_turning_the_app_on_ends_every_other_session_and_mails_a_notice(world: World):
    here = await world.sign_up_verified(ADA)
    elsewhere = await world.sign_in(ADA)
    claims = await world.claims(here.tokens.access_token)
    setup = await world.setup_totp.execute(claims)

    await world.confirm_totp.execute(
        TotpCodeCommand(
            caller=claims, code=pyotp.TOTP(setup.secret).at(world.clock.now()), client=CLIENT
        )
    )

    assert (await world.claims(here.tokens.access_token)).session_id == claims.session_id
    with pytest.raises(InvalidAccessToken):
        await world.claims(elsewhere.tokens.access_token)
    assert any("An authenticator app was turned on" in s for s in subjects(world))


async def test_removing_a_passkey_and_changing_the_password_mail_a_notice(world: World):
    signed_in = await world.sign_up_verified(ADA)
    claims = await world.claims(signed_in.tokens.access_token)
    await plant(world, 0)  # someone else's: not Ada's to remove
    passkey = await world.passkeys.add(a_passkey(signed_in.user.id, b"mine", world.clock.now()))
    claims = world.proven(claims)  # with a passkey on the account, step-up asks for aal2

    await world.remove_passkey.execute(
        RemovePasskeyCommand(caller=claims, passkey_id=passkey.id, client=CLIENT)
    )
    await world.change_password.execute(
        ChangePasswordCommand(
            caller=claims,
            current_password=PASSWORD,
            new_password="another good password",
            client=CLIENT,
        )
    )

    assert [s.split(" — ")[0] for s in subjects(world)[1:]] == [
        "A passkey was removed",
        "Your password was changed",
    ]
    notice = world.mail.queued_to(ADA)[-1]
    assert "reset your password" in notice.text
    assert "<p>" in notice.html
