"""A sign-in from a device new to the account mails its owner, with a "this wasn't me" link
that ends every session and blocks the password until a reset."""

from __future__ import annotations

import dataclasses
import re
from typing import Any

import pytest

from application.client import ClientInfo
from application.devices.secure import SecureAccountCommand
from application.email.recovery import ResetPasswordCommand
from application.login import LoginCommand
from application.mfa.passkeys import FinishRegistrationCommand
from domain.errors import (
    InvalidAccessToken,
    InvalidCredentials,
    InvalidPasskey,
    InvalidRefreshToken,
    InvalidSecureToken,
    StorageUnavailable,
)
from infrastructure.grants.memory import MemoryGrantStore
from tests.fakes.authenticator import SoftAuthenticator
from tests.fakes.clock import FakeClock
from tests.unit.test_planted_factors import link_token
from tests.unit.world import CLIENT, ISSUER, PASSWORD, World, build_world

ADA = "ada@example.test"
LAPTOP = dataclasses.replace(CLIENT, device="laptop-0123456789abcdef")
IPHONE = (
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15"
    " (KHTML, like Gecko) Version/17.5 Mobile/15E148 Safari/604.1"
)
PHONE = ClientInfo(ip_address="198.51.100.23", user_agent=IPHONE, device="phone-0123456789ab")
SECURE_LINK = re.compile(r"/secure-account\?token=([A-Za-z0-9_-]+)")


def notices(world: World) -> list[str]:
    return [m.text for m in world.mail.queued_to(ADA) if m.subject.startswith("New sign-in")]


async def sign_in_from(world: World, client: ClientInfo) -> str:
    signed_in = await world.login.execute(LoginCommand(email=ADA, password=PASSWORD, client=client))
    assert signed_in.tokens.device is not None
    return signed_in.tokens.refresh_token


async def registered_on_the_laptop(world: World) -> None:
    await world.sign_up(ADA)  # CLIENT: no device sent yet, so the sign-up's is a new id
    await sign_in_from(world, LAPTOP)


async def test_the_sign_up_and_the_first_device_send_no_notice(clock: FakeClock) -> None:
    world = build_world(clock)
    signed_up = await world.sign_up(ADA)
    assert signed_up.tokens.device is not None  # the id the browser keeps from now on
    await world.login.execute(
        LoginCommand(
            email=ADA,
            password=PASSWORD,
            client=dataclasses.replace(CLIENT, device=signed_up.tokens.device),
        )
    )
    assert notices(world) == []


async def test_a_second_sign_in_from_the_same_device_sends_nothing(clock: FakeClock) -> None:
    world = build_world(clock)
    await registered_on_the_laptop(world)
    already = len(notices(world))
    await sign_in_from(world, LAPTOP)
    await sign_in_from(world, LAPTOP)
    assert len(notices(world)) == already


async def test_a_new_device_sends_one_notice_saying_when_where_and_how(clock: FakeClock) -> None:
    world = build_world(clock)
    await registered_on_the_laptop(world)
    already = len(notices(world))
    await sign_in_from(world, PHONE)
    [notice] = notices(world)[already:]
    assert "198.51.100.23" in notice
    assert "Browser or app: Safari on iOS" in notice
    assert "the password" in notice
    assert f"{clock.now():%Y-%m-%d %H:%M} UTC" in notice
    assert SECURE_LINK.search(notice)
    await sign_in_from(world, PHONE)
    assert len(notices(world)) == already + 1


async def test_the_notice_names_the_browser_and_quotes_nothing_the_intruder_wrote(
    clock: FakeClock,
) -> None:
    """The User-Agent is whatever the intruder sends: quoted, it would put their words (and
    their link) in the owner's warning, to talk them out of using its own link."""
    world = build_world(clock)
    await registered_on_the_laptop(world)
    pitch = (
        "Chrome/126.0 on Windows NT 10.0. Note from the Security Team: this sign-in was our"
        " scheduled check, do NOT use the link below; confirm at https://phish.example.net/x"
    )
    await sign_in_from(world, dataclasses.replace(PHONE, user_agent=pitch))

    notice = notices(world)[-1]

    assert "Browser or app: Chrome on Windows" in notice
    assert "phish.example.net" not in notice
    assert "Security Team" not in notice


async def test_this_wasnt_me_ends_every_session_and_blocks_the_password_until_reset(
    clock: FakeClock,
) -> None:
    world = build_world(clock)
    await registered_on_the_laptop(world)
    mine = await sign_in_from(world, LAPTOP)
    theirs = await sign_in_from(world, PHONE)
    link = SECURE_LINK.search(notices(world)[-1])
    assert link is not None
    resets = len([m for m in world.mail.queued_to(ADA) if "reset" in m.subject.lower()])

    await world.secure_account.execute(SecureAccountCommand(token=link.group(1), client=PHONE))

    for refresh_token in (mine, theirs):
        with pytest.raises(InvalidRefreshToken):
            await world.rotate(refresh_token)
    with pytest.raises(InvalidCredentials):
        await sign_in_from(world, LAPTOP)
    assert len([m for m in world.mail.queued_to(ADA) if "reset" in m.subject.lower()]) == (
        resets + 1
    )
    assert "account_secured" in [e.event for e in world.audit.events]
    with pytest.raises(InvalidSecureToken):
        await world.secure_account.execute(SecureAccountCommand(token=link.group(1), client=PHONE))


async def test_after_this_wasnt_me_the_intruders_device_is_new_again(clock: FakeClock) -> None:
    """The intruder learns the new password too (phished again, reused): their next sign-in
    from the same browser mails the owner again, with a new link to use."""
    world = build_world(clock)
    await registered_on_the_laptop(world)
    clock.advance(60)
    await sign_in_from(world, PHONE)
    link = SECURE_LINK.search(notices(world)[-1])
    assert link is not None
    await world.secure_account.execute(SecureAccountCommand(token=link.group(1), client=LAPTOP))
    token = link_token(world, "Reset")
    await world.reset_password.execute(
        ResetPasswordCommand(token=token, new_password="a new password", client=LAPTOP)
    )
    told = len(notices(world))

    await world.login.execute(LoginCommand(email=ADA, password="a new password", client=PHONE))
    await world.login.execute(LoginCommand(email=ADA, password="a new password", client=LAPTOP))

    assert len(notices(world)) == told + 1  # the phone's; the laptop was known before
    assert SECURE_LINK.search(notices(world)[-1])


async def test_a_passkey_being_added_when_this_wasnt_me_is_clicked_does_not_stay(
    clock: FakeClock,
) -> None:
    """The intruder's passkey registration was under way when the owner clicked: the sweep of
    the factors added since ran before it was stored. It must not outlive their session."""
    world = build_world(clock)
    await registered_on_the_laptop(world)
    await world.verified(1)
    clock.advance(60)
    intruder = await world.login.execute(LoginCommand(email=ADA, password=PASSWORD, client=PHONE))
    link = SECURE_LINK.search(notices(world)[-1])
    assert link is not None
    claims = await world.claims(intruder.tokens.access_token)
    theirs = SoftAuthenticator(ISSUER)
    options = await world.start_passkey_registration.execute(claims)
    real_add = world.passkeys.add

    async def owner_clicks_then_add(*args: Any) -> Any:
        await world.secure_account.execute(SecureAccountCommand(token=link.group(1), client=LAPTOP))
        return await real_add(*args)

    world.passkeys.add = owner_clicks_then_add  # type: ignore[method-assign, assignment]

    with pytest.raises(InvalidAccessToken):
        await world.finish_passkey_registration.execute(
            FinishRegistrationCommand(
                caller=claims, credential=theirs.create(dict(options)), name=None, client=PHONE
            )
        )

    assert await world.passkeys.of_user(intruder.user.id) == []
    with pytest.raises(InvalidPasskey):
        await world.sign_in_with_passkey(theirs)


async def enrol_passkey(world: World, access_token: str, authenticator: SoftAuthenticator) -> None:
    claims = await world.claims(access_token)
    options = await world.start_passkey_registration.execute(claims)
    await world.finish_passkey_registration.execute(
        FinishRegistrationCommand(
            caller=claims, credential=authenticator.create(dict(options)), name=None, client=PHONE
        )
    )


async def test_this_wasnt_me_removes_a_passkey_the_intruder_added(clock: FakeClock) -> None:
    """The intruder's fresh sign-in is step-up enough to add a passkey to an account without
    a second factor: one that outlived "this wasn't me" would sign them in again (aal2)."""
    world = build_world(clock)
    await world.sign_up_verified(ADA)
    clock.advance(3600)
    intruder = await world.login.execute(LoginCommand(email=ADA, password=PASSWORD, client=PHONE))
    theirs = SoftAuthenticator(ISSUER)
    clock.advance(30)
    await enrol_passkey(world, intruder.tokens.access_token, theirs)
    link = SECURE_LINK.search(notices(world)[-1])
    assert link is not None

    await world.secure_account.execute(SecureAccountCommand(token=link.group(1), client=LAPTOP))

    with pytest.raises(InvalidPasskey):
        await world.sign_in_with_passkey(theirs)
    removed = [e for e in world.audit.named("passkey_removed") if e.reason == "account_secured"]
    assert len(removed) == 1
    assert any(
        m.subject.startswith("Second factors were removed") for m in world.mail.queued_to(ADA)
    )


async def test_this_wasnt_me_keeps_the_passkeys_added_before_that_sign_in_and_every_live_notice(
    clock: FakeClock,
) -> None:
    """A passkey whose own notice's link still lives goes with any notice's link (it may be
    what the reported intruder signed in with): tests/http/test_factor_added_undo.py."""
    world = build_world(clock)
    owner = await world.sign_up_verified(ADA)
    mine = SoftAuthenticator(ISSUER)
    await enrol_passkey(world, owner.tokens.access_token, mine)
    clock.advance(8 * 24 * 3600)  # the "passkey added" notice's link has died
    await sign_in_from(world, PHONE)
    link = SECURE_LINK.search(notices(world)[-1])
    assert link is not None

    await world.secure_account.execute(SecureAccountCommand(token=link.group(1), client=LAPTOP))

    assert await world.sign_in_with_passkey(mine)
    assert not [m for m in world.mail.queued_to(ADA) if "factors were removed" in m.subject]


class GrantsDown(MemoryGrantStore):
    """The grant store while its backend is down: ending sessions fails."""

    down = False

    async def revoke_user(self, *args: Any, **kwargs: Any) -> list[str]:
        if self.down:
            raise StorageUnavailable()
        return await super().revoke_user(*args, **kwargs)


async def test_a_backend_down_while_securing_spends_nothing_and_the_link_works_again(
    clock: FakeClock,
) -> None:
    """The link is single use: had it been spent before the sessions ended, a failure in
    between would leave the intruder's sessions alive and the owner nothing to click."""
    grants = GrantsDown()
    world = build_world(clock, grants=grants)
    await registered_on_the_laptop(world)
    theirs = await sign_in_from(world, PHONE)
    link = SECURE_LINK.search(notices(world)[-1])
    assert link is not None
    grants.down = True

    with pytest.raises(StorageUnavailable):
        await world.secure_account.execute(SecureAccountCommand(token=link.group(1), client=PHONE))
    grants.down = False
    await world.secure_account.execute(SecureAccountCommand(token=link.group(1), client=PHONE))

    with pytest.raises(InvalidRefreshToken):
        await world.rotate(theirs)
    with pytest.raises(InvalidCredentials):
        await sign_in_from(world, LAPTOP)
