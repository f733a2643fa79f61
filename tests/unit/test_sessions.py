from __future__ import annotations

import pytest

from application.session_issuer import IssuedTokens
from application.sessions import RevokeCommand, RevokeOneCommand
from domain.errors import InvalidAccessToken, InvalidRefreshToken, SessionNotFound
from domain.ports import AccessClaims
from tests.unit.world import CLIENT, World


async def three_sessions(world: World) -> list[IssuedTokens]:
    first = (await world.sign_up()).tokens
    world.clock.advance(1)
    second = (await world.sign_in()).tokens
    world.clock.advance(1)
    third = (await world.sign_in()).tokens
    return [first, second, third]


async def assert_dead(world: World, tokens: IssuedTokens) -> None:
    assert world.sessions.sessions[tokens.session_id].revoked_at is not None
    with pytest.raises(InvalidAccessToken):
        await world.claims(tokens.access_token)
    with pytest.raises(InvalidRefreshToken):
        await world.rotate(tokens.refresh_token)


async def assert_alive(world: World, tokens: IssuedTokens) -> None:
    assert world.sessions.sessions[tokens.session_id].revoked_at is None
    await world.claims(tokens.access_token)
    assert (await world.rotate(tokens.refresh_token)).session_id == tokens.session_id


async def test_revoke_sessions_ends_every_session_of_the_user(world: World) -> None:
    sessions = await three_sessions(world)
    other = (await world.sign_up("bob@example.test")).tokens
    caller = await world.claims(sessions[0].access_token)

    await world.revoke_sessions.execute(
        RevokeCommand(caller=caller, keep_current=False, client=CLIENT)
    )

    for tokens in sessions:
        await assert_dead(world, tokens)
    await assert_alive(world, other)
    revoked = {e.session_id for e in world.audit.named("session_revoked")}
    assert revoked == {t.session_id for t in sessions}


async def test_revoke_sessions_with_keep_current_keeps_the_calling_session(
    world: World,
) -> None:
    first, second, third = await three_sessions(world)
    caller = await world.claims(second.access_token)

    await world.revoke_sessions.execute(
        RevokeCommand(caller=caller, keep_current=True, client=CLIENT)
    )

    await assert_dead(world, first)
    await assert_dead(world, third)
    await assert_alive(world, second)


async def test_list_sessions_flags_the_current_one(world: World) -> None:
    first, second, third = await three_sessions(world)
    await world.sign_up("bob@example.test")
    caller = await world.claims(second.access_token)

    listed = await world.list_sessions.execute(caller)

    assert [(d.session.id, d.current) for d in listed] == [
        (third.session_id, False),
        (second.session_id, True),
        (first.session_id, False),
    ]
    assert listed[0].session.ip_address == CLIENT.ip_address


async def test_list_sessions_leaves_out_revoked_ones(world: World) -> None:
    first, second, third = await three_sessions(world)
    caller = await world.claims(first.access_token)
    await world.revoke_session.execute(
        RevokeOneCommand(caller=caller, session_id=second.session_id, client=CLIENT)
    )

    listed = await world.list_sessions.execute(caller)

    assert [d.session.id for d in listed] == [third.session_id, first.session_id]


async def test_revoke_session_of_someone_else_is_session_not_found(world: World) -> None:
    mine = (await world.sign_up()).tokens
    theirs = (await world.sign_up("bob@example.test")).tokens
    caller = await world.claims(mine.access_token)

    with pytest.raises(SessionNotFound):
        await world.revoke_session.execute(
            RevokeOneCommand(caller=caller, session_id=theirs.session_id, client=CLIENT)
        )

    await assert_alive(world, theirs)


@pytest.mark.parametrize("session_id", ["no-such-session", ""])
async def test_revoke_session_of_an_unknown_id_is_session_not_found(
    world: World, session_id: str
) -> None:
    caller = await world.claims((await world.sign_up()).tokens.access_token)

    with pytest.raises(SessionNotFound):
        await world.revoke_session.execute(
            RevokeOneCommand(caller=caller, session_id=session_id, client=CLIENT)
        )


async def test_revoke_session_of_ones_own_revokes_it(world: World) -> None:
    first, second, _ = await three_sessions(world)
    caller = await world.claims(first.access_token)

    await world.revoke_session.execute(
        RevokeOneCommand(caller=caller, session_id=second.session_id, client=CLIENT)
    )

    await assert_dead(world, second)
    assert world.sessions.sessions[second.session_id].revoked_reason == "revoked_by_user"
    await assert_alive(world, first)


async def test_revoking_an_already_revoked_session_is_session_not_found(world: World) -> None:
    first, second, _ = await three_sessions(world)
    caller: AccessClaims = await world.claims(first.access_token)
    command = RevokeOneCommand(caller=caller, session_id=second.session_id, client=CLIENT)
    await world.revoke_session.execute(command)

    with pytest.raises(SessionNotFound):
        await world.revoke_session.execute(command)
