from __future__ import annotations

import pytest

from application.logout import LogoutCommand
from domain.errors import InvalidAccessToken, InvalidRefreshToken
from tests.unit.world import CLIENT, World


def logout(refresh_token: str | None, bearer: str | None = None) -> LogoutCommand:
    return LogoutCommand(refresh_token=refresh_token, bearer_token=bearer, client=CLIENT)


async def test_logout_by_refresh_token_revokes_the_session_and_denies_its_access(
    world: World,
) -> None:
    tokens = (await world.sign_up()).tokens

    await world.logout.execute(logout(tokens.refresh_token))

    session = world.sessions.sessions[tokens.session_id]
    assert session.revoked_at == world.clock.now()
    assert session.revoked_reason == "logout"
    with pytest.raises(InvalidRefreshToken):
        await world.rotate(tokens.refresh_token)
    with pytest.raises(InvalidAccessToken):
        await world.claims(tokens.access_token)
    [event] = world.audit.named("session_revoked")
    assert (event.session_id, event.reason) == (tokens.session_id, "logout")
    assert event.user_id == session.user_id  # known from the session row, no bearer needed


async def test_logout_leaves_the_other_sessions_alone(world: World) -> None:
    first = (await world.sign_up()).tokens
    second = (await world.sign_in()).tokens

    await world.logout.execute(logout(first.refresh_token))

    assert world.sessions.sessions[second.session_id].revoked_at is None
    await world.claims(second.access_token)
    await world.rotate(second.refresh_token)


@pytest.mark.parametrize(
    "token",
    [None, "", "never-issued", "x" * 10_000],
    ids=["none", "empty", "never-issued", "10000-chars"],
)
async def test_logout_with_an_unknown_token_is_a_no_op(world: World, token: str | None) -> None:
    tokens = (await world.sign_up()).tokens
    events_before = list(world.audit.events)

    await world.logout.execute(logout(token))

    assert world.sessions.sessions[tokens.session_id].revoked_at is None
    assert world.audit.events == events_before
    await world.claims(tokens.access_token)


async def test_logout_twice_is_fine(world: World) -> None:
    tokens = (await world.sign_up()).tokens

    await world.logout.execute(logout(tokens.refresh_token))
    await world.logout.execute(logout(tokens.refresh_token))

    assert world.sessions.sessions[tokens.session_id].revoked_reason == "logout"


async def test_logout_by_bearer_token_alone_revokes_the_session(world: World) -> None:
    tokens = (await world.sign_up()).tokens

    await world.logout.execute(logout(None, bearer=tokens.access_token))

    assert world.sessions.sessions[tokens.session_id].revoked_reason == "logout"
    with pytest.raises(InvalidAccessToken):
        await world.claims(tokens.access_token)
    with pytest.raises(InvalidRefreshToken):
        await world.rotate(tokens.refresh_token)


async def test_the_refresh_token_decides_whatever_bearer_comes_with_it(world: World) -> None:
    ada = (await world.sign_up()).tokens
    bob = (await world.sign_up("bob@example.test")).tokens

    await world.logout.execute(logout(ada.refresh_token, bearer=bob.access_token))

    assert world.sessions.sessions[ada.session_id].revoked_reason == "logout"
    assert world.sessions.sessions[bob.session_id].revoked_at is None
    [event] = world.audit.named("session_revoked")
    assert event.user_id == world.sessions.sessions[ada.session_id].user_id
    await world.claims(bob.access_token)


@pytest.mark.parametrize("bearer", ["garbage", ""], ids=["garbage", "empty"])
async def test_a_bad_bearer_without_a_refresh_token_is_a_no_op(world: World, bearer: str) -> None:
    tokens = (await world.sign_up()).tokens

    await world.logout.execute(logout(None, bearer=bearer))

    assert world.sessions.sessions[tokens.session_id].revoked_at is None
