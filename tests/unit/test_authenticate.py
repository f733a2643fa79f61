from __future__ import annotations

import pytest

from application.client import ClientInfo
from domain.errors import InvalidAccessToken
from tests.unit.world import World


async def test_a_valid_access_token_gives_its_claims(world: World) -> None:
    signed_in = await world.sign_up()

    claims = await world.claims(signed_in.tokens.access_token)

    assert claims.user_id == signed_in.user.id
    assert claims.session_id == signed_in.tokens.session_id
    assert claims.role == "user"
    assert claims.issued_at == world.clock.now()
    assert (claims.expires_at - claims.issued_at).total_seconds() == 900


async def test_the_current_user_is_the_one_the_token_names(world: World) -> None:
    signed_in = await world.sign_up()

    assert await world.current_user.execute(signed_in.tokens.access_token) == signed_in.user


async def test_the_current_user_of_a_deleted_account_is_an_invalid_token(world: World) -> None:
    signed_in = await world.sign_up()
    await world.users.remove(signed_in.user.id)

    with pytest.raises(InvalidAccessToken):
        await world.current_user.execute(signed_in.tokens.access_token)


@pytest.mark.parametrize(
    "token",
    [None, "", "garbage", "a.b.c", "x" * 10_000],
    ids=["none", "empty", "garbage", "three-dots", "10000-chars"],
)
async def test_a_missing_or_malformed_token_is_invalid(world: World, token: str | None) -> None:
    with pytest.raises(InvalidAccessToken):
        await world.claims(token)


async def test_a_token_of_a_denied_session_is_invalid_at_once(world: World) -> None:
    signed_in = await world.sign_up()
    await world.revoker.revoke(signed_in.tokens.session_id, signed_in.user.id, "test", ClientInfo())

    with pytest.raises(InvalidAccessToken):
        await world.claims(signed_in.tokens.access_token)


async def test_the_current_user_of_a_denied_session_is_an_invalid_token(world: World) -> None:
    signed_in = await world.sign_up()
    await world.revoker.revoke(signed_in.tokens.session_id, signed_in.user.id, "test", ClientInfo())

    with pytest.raises(InvalidAccessToken):
        await world.current_user.execute(signed_in.tokens.access_token)


async def test_a_denied_session_stays_denied_until_its_tokens_expire(world: World) -> None:
    signed_in = await world.sign_up()
    await world.revoker.revoke(signed_in.tokens.session_id, signed_in.user.id, "test", ClientInfo())
    world.clock.advance(899)

    with pytest.raises(InvalidAccessToken):
        await world.claims(signed_in.tokens.access_token)


async def test_a_token_still_valid_at_899_seconds(world: World) -> None:
    signed_in = await world.sign_up()
    world.clock.advance(899)

    claims = await world.claims(signed_in.tokens.access_token)

    assert claims.user_id == signed_in.user.id


async def test_an_expired_token_is_invalid(world: World) -> None:
    signed_in = await world.sign_up()
    world.clock.advance(901)

    with pytest.raises(InvalidAccessToken):
        await world.claims(signed_in.tokens.access_token)
