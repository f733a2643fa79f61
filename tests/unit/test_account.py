"""The account is its user's: export everything kept about it, or erase it, each only with
a recent proof of the user (step-up)."""

from __future__ import annotations

import dataclasses

import pytest

from application.account import AccountCommand
from domain.entities import ADMIN_ROLE
from domain.errors import InsufficientUserAuthentication, InvalidAccessToken, LastAdmin
from tests.unit.world import CLIENT, World


async def test_export_holds_the_profile_sessions_activity_and_mails(world: World) -> None:
    signed_in = await world.sign_up()
    caller = await world.claims(signed_in.tokens.access_token)

    exported = await world.export_account.execute(AccountCommand(caller=caller, client=CLIENT))

    assert exported.user.email == "ada@example.test"
    assert [s.id for s in exported.sessions] == [signed_in.tokens.session_id]
    types = [a.type for a in exported.activity]
    assert types[0] == "account_exported"  # newest first, the export itself included
    assert "session_started" in types
    assert [m.subject for m in exported.mails] == ["Confirm your email address for authgate tests"]


async def test_export_and_delete_need_a_recent_proof(world: World) -> None:
    signed_in = await world.sign_up()
    caller = await world.claims(signed_in.tokens.access_token)
    world.clock.advance(3600)
    stale = await world.claims((await world.rotate(signed_in.tokens.refresh_token)).access_token)
    command = AccountCommand(caller=stale, client=CLIENT)

    with pytest.raises(InsufficientUserAuthentication):
        await world.export_account.execute(command)
    with pytest.raises(InsufficientUserAuthentication):
        await world.delete_account.execute(command)
    assert signed_in.user.id in world.users.users
    assert caller.user_id == signed_in.user.id


async def test_delete_erases_the_account_ends_its_sessions_and_says_goodbye(world: World):
    signed_in = await world.sign_up()
    other = await world.sign_in()
    caller = await world.claims(signed_in.tokens.access_token)

    await world.delete_account.execute(AccountCommand(caller=caller, client=CLIENT))

    assert signed_in.user.id not in world.users.users
    for tokens in (signed_in.tokens, other.tokens):
        with pytest.raises(InvalidAccessToken):
            await world.claims(tokens.access_token)
    assert await world.activity.page(signed_in.user.id, before=None, limit=100) == []
    [farewell] = [m for m in world.mail.queued_to("ada@example.test") if "deleted" in m.subject]
    assert farewell.subject == "Your account was deleted — authgate tests"
    await world.sign_up()  # the address is free again


async def test_the_last_admin_cannot_delete_itself(world: World) -> None:
    signed_in = await world.sign_up()
    user = world.users.users[signed_in.user.id]
    world.users.users[user.id] = dataclasses.replace(user, role=ADMIN_ROLE)
    caller = await world.claims(signed_in.tokens.access_token)

    with pytest.raises(LastAdmin):
        await world.delete_account.execute(AccountCommand(caller=caller, client=CLIENT))
    assert user.id in world.users.users
