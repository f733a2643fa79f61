from __future__ import annotations

from datetime import timedelta

import pytest

from application.throttle import Limits
from domain.errors import (
    InvalidAccessToken,
    InvalidRefreshToken,
    RefreshTokenReused,
    TooManyRequests,
)
from domain.ports import GenuineRefreshToken
from infrastructure.security.refresh_tokens import HmacRefreshTokens
from tests.fakes.clock import FakeClock
from tests.unit.world import World, build_world

DAY = 24 * 3600


async def test_a_refresh_rotates_the_token_and_keeps_the_session(world: World) -> None:
    first = (await world.sign_up()).tokens
    world.clock.advance(60)

    second = await world.rotate(first.refresh_token)

    assert second.refresh_token != first.refresh_token
    assert second.session_id == first.session_id
    assert second.access_token != first.access_token
    assert second.refresh_expires_in == 7 * DAY
    claims = await world.claims(second.access_token)
    assert claims.session_id == first.session_id
    session = world.sessions.sessions[first.session_id]
    assert session.last_used_at == world.clock.now()
    assert session.expires_at == world.clock.now() + timedelta(days=7)


async def test_the_new_token_refreshes_again(world: World) -> None:
    first = (await world.sign_up()).tokens

    second = await world.rotate(first.refresh_token)
    third = await world.rotate(second.refresh_token)

    assert len({first.refresh_token, second.refresh_token, third.refresh_token}) == 3
    assert third.session_id == first.session_id


async def test_a_replay_within_the_grace_window_returns_the_same_successor(world: World) -> None:
    first = (await world.sign_up()).tokens
    second = await world.rotate(first.refresh_token)
    world.clock.advance(9)

    replayed = await world.rotate(first.refresh_token)

    assert replayed.refresh_token == second.refresh_token
    assert replayed.session_id == second.session_id
    await world.claims(replayed.access_token)
    assert world.audit.named("refresh_token_reused") == []
    third = await world.rotate(replayed.refresh_token)
    assert third.session_id == first.session_id


async def test_replayed_refresh_token_after_grace_revokes_the_session(world: World) -> None:
    first = (await world.sign_up()).tokens
    second = await world.rotate(first.refresh_token)
    world.clock.advance(11)

    with pytest.raises(RefreshTokenReused):
        await world.rotate(first.refresh_token)

    session = world.sessions.sessions[first.session_id]
    assert session.revoked_at == world.clock.now()
    assert session.revoked_reason == "refresh_token_reused"
    with pytest.raises(InvalidRefreshToken):
        await world.rotate(second.refresh_token)
    with pytest.raises(InvalidAccessToken):
        await world.claims(second.access_token)
    [event] = world.audit.named("refresh_token_reused")
    assert (event.session_id, event.user_id) == (first.session_id, session.user_id)
    [ended] = world.audit.named("session_revoked")
    assert (ended.session_id, ended.reason) == (first.session_id, "refresh_token_reused")


async def test_an_older_token_than_the_previous_one_is_reuse_even_within_grace(
    world: World,
) -> None:
    first = (await world.sign_up()).tokens
    second = await world.rotate(first.refresh_token)
    third = await world.rotate(second.refresh_token)

    with pytest.raises(RefreshTokenReused):
        await world.rotate(first.refresh_token)

    with pytest.raises(InvalidRefreshToken):
        await world.rotate(third.refresh_token)
    assert world.sessions.sessions[first.session_id].revoked_reason == "refresh_token_reused"


async def test_with_grace_zero_a_replay_is_reuse_at_once(clock: FakeClock) -> None:
    world = build_world(clock, grace=0)
    first = (await world.sign_up()).tokens
    second = await world.rotate(first.refresh_token)

    with pytest.raises(RefreshTokenReused):
        await world.rotate(first.refresh_token)

    with pytest.raises(InvalidAccessToken):
        await world.claims(second.access_token)


async def test_a_session_idle_for_longer_than_7_days_is_over(world: World) -> None:
    first = (await world.sign_up()).tokens
    world.clock.advance(7 * DAY + 1)

    with pytest.raises(InvalidRefreshToken):
        await world.rotate(first.refresh_token)

    assert world.audit.named("refresh_token_reused") == []


async def test_a_session_idle_for_just_under_7_days_still_refreshes(world: World) -> None:
    first = (await world.sign_up()).tokens
    world.clock.advance(7 * DAY - 1)

    second = await world.rotate(first.refresh_token)

    assert second.session_id == first.session_id


async def test_refreshing_every_6_days_keeps_the_session_until_the_30_day_limit(
    world: World,
) -> None:
    token = (await world.sign_up()).tokens.refresh_token
    for day in (6, 12, 18, 24):
        world.clock.advance(6 * DAY)
        tokens = await world.rotate(token)
        token = tokens.refresh_token
        assert tokens.refresh_expires_in == min(7, 30 - day) * DAY

    world.clock.advance(6 * DAY)

    with pytest.raises(InvalidRefreshToken):
        await world.rotate(token)


@pytest.mark.parametrize(
    "token",
    [None, "", "x" * 10_000, "not-a-token-we-ever-issued"],
    ids=["none", "empty", "10000-chars", "never-issued"],
)
async def test_a_missing_or_bogus_refresh_token_is_invalid(world: World, token: str | None) -> None:
    await world.sign_up()

    with pytest.raises(InvalidRefreshToken):
        await world.rotate(token)


async def test_a_refresh_mints_the_role_its_grant_carries_without_reading_the_user(
    world: World,
) -> None:
    signed_in = await world.sign_up()
    await world.grants.set_role(signed_in.user.id, "admin")  # the user row still says "user"

    rotated = await world.rotate(signed_in.tokens.refresh_token)

    assert (await world.claims(rotated.access_token)).role == "admin"


def forged(session_id: str) -> str:
    """A token naming a real session, minted under another secret: its MAC fails."""
    return HmacRefreshTokens(secret=b"an attacker's own key, 32 bytes!").new(session_id)


async def test_a_forged_token_naming_a_live_session_is_invalid_and_revokes_nothing(
    world: World,
) -> None:
    tokens = (await world.sign_up()).tokens
    stolen_id = tokens.session_id  # session ids are no secret: they name sessions in lists
    tampered = tokens.refresh_token[:-1] + ("A" if tokens.refresh_token[-1] != "A" else "B")

    for token in (forged(stolen_id), tampered, f"{stolen_id}.{'A' * 43}"):
        with pytest.raises(InvalidRefreshToken):
            await world.rotate(token)

    # Reuse detection is only for genuine tokens: the session lives on untouched.
    assert world.audit.named("refresh_token_reused") == []
    assert world.sessions.sessions[stolen_id].revoked_at is None
    await world.claims(tokens.access_token)
    assert (await world.rotate(tokens.refresh_token)).session_id == stolen_id


async def test_forged_tokens_count_against_the_refresh_rate_limit(clock: FakeClock) -> None:
    world = build_world(clock, limits=Limits(refresh=2))
    tokens = (await world.sign_up()).tokens

    for _ in range(2):
        with pytest.raises(InvalidRefreshToken):
            await world.rotate(forged(tokens.session_id))
    with pytest.raises(TooManyRequests):
        await world.rotate(forged(tokens.session_id))


async def test_every_token_names_its_session_and_successors_are_derived(world: World) -> None:
    first = (await world.sign_up()).tokens
    second = await world.rotate(first.refresh_token)

    assert world.refresh_tokens.read(first.refresh_token) == GenuineRefreshToken(
        first.session_id, 0
    )
    assert world.refresh_tokens.read(second.refresh_token) == GenuineRefreshToken(
        first.session_id, 1
    )
    expected = world.refresh_tokens.successor(first.refresh_token)
    assert second.refresh_token == expected


async def test_a_token_that_is_not_ours_is_audited_without_the_token(world: World) -> None:
    tokens = (await world.sign_up()).tokens
    opaque = "A" * 43

    for token in (forged(tokens.session_id), opaque):
        with pytest.raises(InvalidRefreshToken):
            await world.rotate(token)

    events = world.audit.named("refresh_token_invalid")
    assert [event.reason for event in events] == ["not_genuine", "not_genuine"]
    assert all(event.session_id is None and event.user_id is None for event in events)


async def test_a_genuine_token_newer_than_the_store_knows_is_invalid_and_revokes_nothing(
    world: World,
) -> None:
    """The store lost the rotations that minted it (a failover, RFC 9700 §4.14.2 does not
    apply: no holder of an old token could have it): a forced sign-in, no theft alarm."""
    first = (await world.sign_up()).tokens
    second = await world.rotate(first.refresh_token)
    lost = world.refresh_tokens.successor(second.refresh_token)
    further = world.refresh_tokens.successor(lost)

    for token in (lost, further):
        with pytest.raises(InvalidRefreshToken):
            await world.rotate(token)

    assert world.audit.named("refresh_token_reused") == []
    assert world.sessions.sessions[first.session_id].revoked_at is None
    await world.claims(second.access_token)
    assert (await world.rotate(second.refresh_token)).refresh_token == lost
