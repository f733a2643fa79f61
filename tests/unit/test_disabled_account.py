"""A disabled account, whatever raced its disabling: no new session, no refresh, no profile."""

from __future__ import annotations

from dataclasses import replace

import pytest

from application.client import ClientInfo
from domain.assurance import PASSWORD
from domain.errors import AccountDisabled, InvalidAccessToken
from tests.unit.world import World


def disable(world: World, user_id: int) -> None:
    """The account row says disabled, but its grants were not revoked (yet)."""
    user = world.users.users[user_id]
    world.users.users[user_id] = replace(user, disabled_at=world.clock.now())


async def test_no_session_is_started_for_a_disabled_account(world: World) -> None:
    signed_in = await world.sign_up()
    disable(world, signed_in.user.id)

    with pytest.raises(AccountDisabled):
        await world.issuer.start(world.users.users[signed_in.user.id], ClientInfo(), PASSWORD)


async def test_a_disabling_that_lands_while_a_session_starts_ends_that_session(
    world: World,
) -> None:
    signed_in = await world.sign_up()
    as_read_at_sign_in = world.users.users[signed_in.user.id]
    disable(world, signed_in.user.id)  # between the sign-in's check and its grant

    with pytest.raises(AccountDisabled):
        await world.issuer.start(as_read_at_sign_in, ClientInfo(), PASSWORD)
    started = [s for s in world.sessions.sessions.values() if s.id != signed_in.tokens.session_id]
    assert [s.revoked_at is not None for s in started] == [True]
    assert await world.grants.is_denied(started[0].id, world.clock.now())


async def test_the_profile_of_a_disabled_account_is_refused(world: World) -> None:
    signed_in = await world.sign_up()
    disable(world, signed_in.user.id)

    with pytest.raises(InvalidAccessToken):
        await world.current_user.execute(signed_in.tokens.access_token)
