"""A first password for an account without one: step-up first, the password rules and the
breach check of every new password, one winner of two racing sets, a notice, the other
sessions ended; an account with a password is told to change it instead."""

from __future__ import annotations

import asyncio

import pytest

from application.email.change import SetPasswordCommand
from domain.errors import (
    InsufficientUserAuthentication,
    InvalidAccessToken,
    PasswordAlreadySet,
    PasswordBreached,
    ValidationFailed,
)
from domain.ports import AccessClaims
from tests.fakes.authenticator import SoftAuthenticator
from tests.unit.world import CLIENT, ISSUER, World

ADA = "ada@example.test"
NEW = "a brand new passphrase"


async def set_password(world: World, caller: AccessClaims, new: str = NEW) -> None:
    await world.set_password.execute(
        SetPasswordCommand(caller=caller, new_password=new, client=CLIENT)
    )


async def test_a_passkey_first_account_sets_a_password_and_signs_in_with_it(world: World):
    authenticator = SoftAuthenticator(ISSUER)
    signed_up = await world.sign_up_with_passkey(authenticator)
    elsewhere = await world.sign_in_with_passkey(authenticator)

    await set_password(world, await world.claims(signed_up.tokens.access_token))

    assert (await world.sign_in(ADA, NEW)).user.id == signed_up.user.id
    assert (await world.claims(signed_up.tokens.access_token)).user_id == signed_up.user.id
    with pytest.raises(InvalidAccessToken):  # every other session ends
        await world.claims(elsewhere)
    subjects = [m.subject for m in world.mail.queued_to(ADA)]
    assert any(s.startswith("A password was set") for s in subjects)
    assert [e.event for e in world.audit.named("password_set")] == ["password_set"]


async def test_an_account_with_a_password_is_told_to_change_it(world: World):
    signed_in = await world.sign_up()

    with pytest.raises(PasswordAlreadySet):
        await set_password(world, await world.claims(signed_in.tokens.access_token))


async def test_setting_a_password_needs_a_recent_proof(world: World):
    signed_up = await world.sign_up_with_passkey(SoftAuthenticator(ISSUER))
    claims = await world.claims(signed_up.tokens.access_token)
    world.clock.advance(301)

    with pytest.raises(InsufficientUserAuthentication):
        await set_password(world, claims)
    await set_password(world, world.proven(claims))  # after a re-authentication


async def test_the_new_password_follows_the_rules_and_the_breach_check(world: World):
    signed_up = await world.sign_up_with_passkey(SoftAuthenticator(ISSUER))
    claims = await world.claims(signed_up.tokens.access_token)
    world.breaches.breached.add("password123")

    with pytest.raises(ValidationFailed) as short:
        await set_password(world, claims, "short")
    with pytest.raises(PasswordBreached):
        await set_password(world, claims, "password123")

    assert short.value.errors[0].field == "new_password"
    assert world.users.users[signed_up.user.id].password_hash is None


async def test_of_two_racing_sets_one_wins(world: World):
    signed_up = await world.sign_up_with_passkey(SoftAuthenticator(ISSUER))
    claims = await world.claims(signed_up.tokens.access_token)

    outcomes = await asyncio.gather(
        set_password(world, claims, NEW),
        set_password(world, claims, "another new passphrase"),
        return_exceptions=True,
    )

    assert sorted(type(o).__name__ for o in outcomes) == ["NoneType", "PasswordAlreadySet"]
