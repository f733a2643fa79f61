"""A disabled account, whatever raced its disabling: no new session, no refresh, no profile."""

from __future__ import annotations

from dataclasses import replace

import pytest

from application.client import ClientInfo
from domain.errors import AccountDisabled, InvalidAccessToken, InvalidRefreshToken
from tests.unit.world import World


def disable(world: World, user_id: int) -> None:
    """The account row says disabled, but its grants were not revoked (yet)."""
    user = world.users.users[user_id]
    world.users.users[user_id] = replace(user, disabled_at=world.clock.now())


async def test_no_session_is_started_for_a_disabled_account(world: World) -> None:
    signed_in = await world.sign_up()
    disable(world, signed_in.user.id)

    with pytest.raises(AccountDisabled):
        await world.issuer.start(world.users.users[signed_in.user.id], ClientInfo())


async def test_a_session_that_outlived_the_disabling_is_refused_and_revoked_at_refresh(
    world: World,
) -> None:
    signed_in = await world.sign_up()
    disable(world, signed_in.user.id)

    with pytest.raises(InvalidRefreshToken):
        await world.rotate(signed_in.tokens.refresh_token)
    with pytest.raises(InvalidRefreshToken):
        await world.rotate(signed_in.tokens.refresh_token)
    assert await world.grants.is_denied(signed_in.tokens.session_id, world.clock.now())


async def test_the_profile_of_a_disabled_account_is_refused(world: World) -> None:
    signed_in = await world.sign_up()
    claims = await world.claims(signed_in.tokens.access_token)
    disable(world, signed_in.user.id)

    with pytest.raises(InvalidAccessToken):
        await world.current_user.execute(claims)
