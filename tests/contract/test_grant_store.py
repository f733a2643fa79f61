"""RefreshGrantStore contract: every adapter behaves like the memory reference.

A rotation names its session: the application presents only genuine tokens (their MAC
checked), so the stores keep no entry per token. A token names its generation too (0 for a
family's first, one more at each rotation): here ``t0`` is of generation 0, ``t1`` of
generation 1, and so on; a token without a digit after a letter is of generation 0.
What each store keeps (its layout) is in ``test_grant_layouts.py``.
"""

from __future__ import annotations

import asyncio
import hashlib
import re
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest

from domain.assurance import Assurance
from domain.entities import RefreshGrant
from domain.ports import (
    GraceReplay,
    Invalid,
    RateLimit,
    RefreshGrantStore,
    Reused,
    Rotated,
    Rotation,
    Throttled,
)
from tests.contract.conftest import GRANTS_LIFETIME, GRANTS_NOW, Start

SIGNED_IN = Assurance(datetime(2026, 1, 1, tzinfo=UTC), ("pwd",))

BASE = GRANTS_NOW
IDLE = timedelta(minutes=30)
ABSOLUTE = GRANTS_LIFETIME
ACCESS = timedelta(minutes=15)


def at(seconds: float, base: datetime = BASE) -> datetime:
    return base + timedelta(seconds=seconds)


def h(token: str) -> str:
    """Stores only ever see hashes of tokens."""
    return hashlib.sha256(token.encode()).hexdigest()


def grant(
    session_id: str = "s1",
    user_id: int = 1,
    token: str = "t0",
    now: datetime = BASE,
    idle: timedelta = IDLE,
    absolute: timedelta = ABSOLUTE,
) -> RefreshGrant:
    return RefreshGrant(
        session_id=session_id,
        user_id=user_id,
        token_hash=h(token),
        idle_expires_at=now + idle,
        absolute_expires_at=now + absolute,
        assurance=SIGNED_IN,
    )


def rotation(
    presented: str,
    successor: str,
    now: datetime,
    grace: timedelta = timedelta(0),
    *,
    session: str = "s1",
    generation: int | None = None,
) -> Rotation:
    """Presenting a genuine token of ``session``'s family (the application checked it);
    its generation, unless given, the one its name tells (``t2``: 2)."""
    if generation is None:
        named = re.search(r"[a-z]([0-9])$", presented)
        generation = 0 if named is None else int(named[1])
    return Rotation(
        session_id=session,
        presented_hash=h(presented),
        presented_generation=generation,
        successor_hash=h(successor),
        now=now,
        idle_ttl=IDLE,
        grace=grace,
        deny_until=now + ACCESS,
    )


async def test_a_session_without_a_family_is_invalid(grant_store: RefreshGrantStore) -> None:
    assert await grant_store.rotate(rotation("t0", "t1", BASE, session="nope")) == Invalid(
        "unknown"
    )


async def test_rotating_the_current_token_makes_the_successor_current(
    grant_store: RefreshGrantStore,
    start: Start,
) -> None:
    await start(grant(), BASE)

    first = await grant_store.rotate(rotation("t0", "t1", at(60)))
    second = await grant_store.rotate(rotation("t1", "t2", at(120)))

    assert first == Rotated(
        session_id="s1",
        user_id=1,
        idle_expires_at=at(60) + IDLE,
        absolute_expires_at=BASE + ABSOLUTE,
        role="user",
        assurance=SIGNED_IN,
    )
    assert isinstance(second, Rotated)
    assert second.idle_expires_at == at(120) + IDLE


async def test_timestamps_keep_microseconds(
    grant_store: RefreshGrantStore,
    start: Start,
) -> None:
    now = BASE + timedelta(microseconds=123_457)
    await start(grant(now=now), now)

    outcome = await grant_store.rotate(rotation("t0", "t1", now + timedelta(microseconds=1)))

    assert isinstance(outcome, Rotated)
    assert outcome.idle_expires_at == now + timedelta(microseconds=1) + IDLE
    assert outcome.absolute_expires_at == now + ABSOLUTE


async def test_previous_token_within_grace_replays_the_same_successor(
    grant_store: RefreshGrantStore,
    start: Start,
) -> None:
    await start(grant(), BASE)
    rotated = await grant_store.rotate(rotation("t0", "t1", at(60)))

    replay = await grant_store.rotate(rotation("t0", "t1", at(69), grace=timedelta(seconds=10)))

    assert isinstance(rotated, Rotated)
    assert replay == GraceReplay(
        session_id="s1",
        user_id=1,
        idle_expires_at=rotated.idle_expires_at,
        absolute_expires_at=rotated.absolute_expires_at,
        role="user",
        assurance=SIGNED_IN,
    )
    assert isinstance(await grant_store.rotate(rotation("t1", "t2", at(70))), Rotated)


async def test_previous_token_within_grace_with_another_successor_is_reuse(
    grant_store: RefreshGrantStore,
    start: Start,
) -> None:
    await start(grant(), BASE)
    await grant_store.rotate(rotation("t0", "t1", at(60)))

    outcome = await grant_store.rotate(rotation("t0", "x1", at(61), grace=timedelta(seconds=10)))

    assert outcome == Reused(session_id="s1", user_id=1)


async def test_previous_token_after_grace_is_reuse_and_revokes_the_family(
    grant_store: RefreshGrantStore,
    start: Start,
) -> None:
    await start(grant(), BASE)
    await grant_store.rotate(rotation("t0", "t1", at(60)))

    # the grace window is open-ended: exactly ``grace`` after rotation is too late
    reuse = rotation("t0", "t1", at(70), grace=timedelta(seconds=10))
    outcome = await grant_store.rotate(reuse)

    assert outcome == Reused(session_id="s1", user_id=1)
    assert await grant_store.rotate(rotation("t1", "t2", at(71))) == Invalid("unknown")
    assert await grant_store.is_denied("s1", reuse.deny_until - timedelta(microseconds=1))
    assert not await grant_store.is_denied("s1", reuse.deny_until)
    assert await grant_store.revoke_user(1, at(80)) == []  # gone from the user's index too


async def test_older_token_is_reuse(
    grant_store: RefreshGrantStore,
    start: Start,
) -> None:
    await start(grant(), BASE)
    await grant_store.rotate(rotation("t0", "t1", at(60)))
    await grant_store.rotate(rotation("t1", "t2", at(120)))

    outcome = await grant_store.rotate(rotation("t0", "t1", at(121), grace=timedelta(hours=1)))

    assert outcome == Reused(session_id="s1", user_id=1)
    assert await grant_store.rotate(rotation("t2", "t3", at(122))) == Invalid("unknown")
    assert await grant_store.is_denied("s1", at(122))


@pytest.mark.parametrize("ahead", [1, 5])
async def test_a_newer_genuine_token_is_unknown_and_the_family_rotates_on(
    grant_store: RefreshGrantStore,
    start: Start,
    ahead: int,
) -> None:
    """A token past the family's generation was minted by a rotation the store lost (a
    failover): no theft, so nothing is revoked, and the current token still rotates."""
    await start(grant(), BASE)
    await grant_store.rotate(rotation("t0", "t1", at(60)))

    newer = rotation("n", "n+1", at(61), timedelta(hours=1), generation=1 + ahead)
    outcome = await grant_store.rotate(newer)

    assert outcome == Invalid("unknown")
    assert not await grant_store.is_denied("s1", at(61))
    replay = await grant_store.rotate(rotation("t0", "t1", at(62), timedelta(hours=1)))
    assert isinstance(replay, GraceReplay)
    assert isinstance(await grant_store.rotate(rotation("t1", "t2", at(63))), Rotated)
    assert isinstance(await grant_store.rotate(rotation("t2", "t3", at(64))), Rotated)
    assert await grant_store.rotate(rotation("t1", "t2", at(65))) == Reused(
        session_id="s1", user_id=1
    )


async def test_a_genuine_token_of_the_current_generation_that_is_not_current_is_reuse(
    grant_store: RefreshGrantStore,
    start: Start,
) -> None:
    await start(grant(), BASE)
    await grant_store.rotate(rotation("t0", "t1", at(60)))

    outcome = await grant_store.rotate(rotation("x", "x+1", at(61), generation=1))

    assert outcome == Reused(session_id="s1", user_id=1)
    assert await grant_store.is_denied("s1", at(61))


async def test_a_family_never_goes_back_a_generation(
    grant_store: RefreshGrantStore,
    start: Start,
) -> None:
    """Its current token presented as of a lower generation than the family's: the family
    keeps generation 2, so a genuine generation-2 token that is not current stays reuse."""
    await start(grant(), BASE)
    await grant_store.rotate(rotation("t0", "t1", at(60)))
    await grant_store.rotate(rotation("t1", "t2", at(120)))

    rotated = await grant_store.rotate(rotation("t2", "u1", at(180), generation=0))
    outcome = await grant_store.rotate(rotation("x", "x+1", at(181), generation=2))

    assert isinstance(rotated, Rotated)
    assert outcome == Reused(session_id="s1", user_id=1)


async def test_expired_by_idle_timeout_is_invalid(
    grant_store: RefreshGrantStore,
    start: Start,
) -> None:
    await start(grant(), BASE)

    outcome = await grant_store.rotate(rotation("t0", "t1", BASE + IDLE))

    assert outcome == Invalid("expired")
    # the family is gone, but expiry is no attack: access tokens are not denied
    assert await grant_store.rotate(rotation("t0", "t1", BASE)) == Invalid("unknown")
    assert not await grant_store.is_denied("s1", BASE + IDLE)
    assert await grant_store.revoke_user(1, BASE + IDLE) == []


async def test_expired_by_absolute_lifetime_is_invalid(
    grant_store: RefreshGrantStore,
    start: Start,
) -> None:
    await start(grant(absolute=timedelta(minutes=40)), BASE)
    await grant_store.rotate(rotation("t0", "t1", at(20 * 60)))  # idle now reaches 40 min

    outcome = await grant_store.rotate(rotation("t1", "t2", at(40 * 60)))

    assert outcome == Invalid("expired")


async def test_idle_expiry_slides_but_never_past_absolute(
    grant_store: RefreshGrantStore,
    start: Start,
) -> None:
    await start(grant(absolute=timedelta(minutes=50)), BASE)

    first = await grant_store.rotate(rotation("t0", "t1", at(10 * 60)))
    second = await grant_store.rotate(rotation("t1", "t2", at(35 * 60)))

    assert isinstance(first, Rotated)
    assert first.idle_expires_at == at(40 * 60)
    assert isinstance(second, Rotated)
    assert second.idle_expires_at == BASE + timedelta(minutes=50)
    assert await grant_store.rotate(rotation("t2", "t3", at(50 * 60))) == Invalid("expired")


async def test_revoke_session_denies_access_until_deny_until(
    grant_store: RefreshGrantStore,
    start: Start,
) -> None:
    await start(grant(), BASE)
    deny_until = at(60) + ACCESS

    assert await grant_store.revoke_session("s1", deny_until) is True

    assert await grant_store.is_denied("s1", at(60))
    assert await grant_store.is_denied("s1", deny_until - timedelta(microseconds=1))
    assert not await grant_store.is_denied("s1", deny_until)
    assert await grant_store.rotate(rotation("t0", "t1", at(61))) == Invalid("unknown")


async def test_revoke_session_without_a_grant_returns_false_but_still_denies(
    grant_store: RefreshGrantStore,
) -> None:
    assert await grant_store.revoke_session("ghost", at(900)) is False
    assert await grant_store.is_denied("ghost", at(60))


async def test_sessions_never_revoked_are_not_denied(
    grant_store: RefreshGrantStore,
    start: Start,
) -> None:
    await start(grant(), BASE)
    assert not await grant_store.is_denied("s1", BASE)
    assert not await grant_store.is_denied("other", BASE)


async def test_revoke_user_keeps_the_named_session(
    grant_store: RefreshGrantStore,
    start: Start,
) -> None:
    for sid in ("s3", "s1", "s2"):
        await start(grant(session_id=sid, token=f"{sid}-t0"), BASE)

    revoked = await grant_store.revoke_user(1, at(900), keep="s2")

    assert revoked == ["s1", "s3"]
    assert await grant_store.is_denied("s1", at(60))
    assert await grant_store.is_denied("s3", at(60))
    assert not await grant_store.is_denied("s2", at(60))
    gone = await grant_store.rotate(rotation("s1-t0", "s1-t1", at(60), session="s1"))
    kept = await grant_store.rotate(rotation("s2-t0", "s2-t1", at(60), session="s2"))
    assert gone == Invalid("unknown")
    assert isinstance(kept, Rotated)
    assert await grant_store.revoke_user(1, at(900)) == ["s2"]


async def test_revoke_user_only_touches_that_users_sessions(
    grant_store: RefreshGrantStore,
    start: Start,
) -> None:
    await start(grant(session_id="a1", user_id=1, token="a"), BASE)
    await start(grant(session_id="b1", user_id=2, token="b"), BASE)

    assert await grant_store.revoke_user(1, at(900)) == ["a1"]

    assert not await grant_store.is_denied("b1", at(60))
    assert isinstance(await grant_store.rotate(rotation("b", "b+1", at(60), session="b1")), Rotated)
    assert await grant_store.revoke_user(3, at(900)) == []


async def test_times_far_from_the_real_clock_behave_the_same(
    grant_store: RefreshGrantStore,
    start: Start,
) -> None:
    """Only the passed ``now`` decides; never the backend's clock or a key's TTL."""
    for base in (datetime(2001, 1, 1, tzinfo=UTC), datetime(2101, 1, 1, tzinfo=UTC)):
        sid = f"s{base.year}"
        await start(grant(session_id=sid, token=sid, now=base), base)
        outcome = await grant_store.rotate(rotation(sid, f"{sid}+1", at(60, base), session=sid))
        assert isinstance(outcome, Rotated)
        assert await grant_store.revoke_session(sid, at(900, base))
        assert await grant_store.is_denied(sid, at(899, base))
        assert not await grant_store.is_denied(sid, at(900, base))


async def test_concurrent_rotations_without_grace_rotate_exactly_once(
    grant_store: RefreshGrantStore,
    start: Start,
) -> None:
    await start(grant(), BASE)

    outcomes = await asyncio.gather(
        *(grant_store.rotate(rotation("t0", "t1", at(60))) for _ in range(50))
    )

    assert sum(isinstance(o, Rotated) for o in outcomes) == 1
    assert all(isinstance(o, Rotated | Reused | Invalid) for o in outcomes)
    assert sum(isinstance(o, Reused) for o in outcomes) == 1  # the first replay kills it


async def test_concurrent_rotations_within_grace_all_succeed_with_one_rotation(
    grant_store: RefreshGrantStore,
    start: Start,
) -> None:
    await start(grant(), BASE)
    grace = timedelta(seconds=10)

    outcomes = await asyncio.gather(
        *(grant_store.rotate(rotation("t0", "t1", at(60), grace)) for _ in range(50))
    )

    assert sum(isinstance(o, Rotated) for o in outcomes) == 1
    assert all(isinstance(o, Rotated | GraceReplay) for o in outcomes)


async def test_ping_succeeds(grant_store: RefreshGrantStore) -> None:
    await grant_store.ping()


@pytest.mark.backends
async def test_a_grant_carries_the_role_it_was_issued_with(
    grant_store: RefreshGrantStore,
    start: Start,
) -> None:
    await start(replace(grant(), role="admin"), BASE)

    rotated = await grant_store.rotate(rotation("t0", "t1", at(60)))
    replay = await grant_store.rotate(rotation("t0", "t1", at(61), grace=timedelta(seconds=10)))

    assert isinstance(rotated, Rotated)

    assert rotated.role == "admin"
    assert isinstance(replay, GraceReplay)
    assert replay.role == "admin"


async def test_set_role_changes_the_role_every_live_grant_of_the_user_carries(
    grant_store: RefreshGrantStore,
    start: Start,
) -> None:
    await start(grant("s1", token="a0"), BASE)
    await start(grant("s2", token="b0"), BASE)
    await start(grant("s3", user_id=2, token="c0"), BASE)
    await grant_store.revoke_session("s2", at(1))

    assert await grant_store.set_role(1, "admin") == 1

    mine = await grant_store.rotate(rotation("a0", "a1", at(60), session="s1"))
    theirs = await grant_store.rotate(rotation("c0", "c1", at(60), session="s3"))
    assert isinstance(mine, Rotated)
    assert mine.role == "admin"
    assert isinstance(theirs, Rotated)
    assert theirs.role == "user"
    assert await grant_store.rotate(rotation("b0", "b1", at(60), session="s2")) == Invalid(
        "unknown"
    )


async def test_a_rotation_keeps_how_and_when_the_user_signed_in(
    grant_store: RefreshGrantStore,
    start: Start,
) -> None:
    """A refresh is no new authentication (OpenID Connect Core §2: auth_time)."""
    app_sign_in = Assurance(BASE - timedelta(seconds=30), ("pwd", "otp", "mfa"))
    await start(replace(grant(), assurance=app_sign_in), BASE)

    first = await grant_store.rotate(rotation("t0", "t1", at(60), timedelta(seconds=10)))
    replayed = await grant_store.rotate(rotation("t0", "t1", at(61), timedelta(seconds=10)))
    second = await grant_store.rotate(rotation("t1", "t2", at(120)))

    assert isinstance(first, Rotated)
    assert isinstance(second, Rotated)
    assert isinstance(replayed, GraceReplay)
    assert first.assurance == replayed.assurance == second.assurance == app_sign_in
    assert second.assurance.acr == "aal2"


async def test_reassure_extends_no_session_past_its_idle_or_absolute_expiry(
    grant_store: RefreshGrantStore,
    start: Start,
) -> None:
    """A password proven again near the end of a session minted access tokens for it past
    its absolute lifetime, one call after another (or after it went idle)."""
    await start(grant("old", token="a0", idle=ABSOLUTE * 2), BASE)
    await start(grant("idle", token="b0"), BASE)

    assert await grant_store.reassure("old", Assurance(BASE + ABSOLUTE, ("pwd",))) is False
    assert await grant_store.reassure("idle", Assurance(BASE + IDLE, ("pwd",))) is False
    assert await grant_store.reassure("old", Assurance(BASE + IDLE, ("pwd",))) is True


async def test_reassure_moves_the_proof_a_live_grant_carries_and_only_its_own(
    grant_store: RefreshGrantStore,
    start: Start,
) -> None:
    await start(grant("s1", token="a0"), BASE)
    await start(grant("s2", token="b0"), BASE)
    await start(grant("s3", token="c0"), BASE)
    await grant_store.revoke_session("s3", at(1))
    proven_again = Assurance(at(30), ("hwk", "user", "mfa"))

    assert await grant_store.reassure("s1", proven_again) is True
    assert await grant_store.reassure("s3", proven_again) is False  # revoked: nothing to move
    assert await grant_store.reassure("nope", proven_again) is False

    mine = await grant_store.rotate(rotation("a0", "a1", at(60), session="s1"))
    other = await grant_store.rotate(rotation("b0", "b1", at(60), session="s2"))
    assert isinstance(mine, Rotated)
    assert isinstance(other, Rotated)
    assert mine.assurance == proven_again
    assert other.assurance == SIGNED_IN
    assert await grant_store.rotate(rotation("c0", "c1", at(60), session="s3")) == Invalid(
        "unknown"
    )


async def test_set_role_of_a_user_without_sessions_changes_nothing(
    grant_store: RefreshGrantStore,
) -> None:
    assert await grant_store.set_role(42, "admin") == 0


async def test_a_rotation_over_its_rate_limit_is_throttled_and_rotates_nothing(
    grant_store: RefreshGrantStore,
    start: Start,
) -> None:
    await start(grant(), BASE)
    limit = RateLimit(key=f"refresh:ip:{BASE.timestamp()}", limit=1, window=timedelta(minutes=1))

    first = await grant_store.rotate(replace(rotation("t0", "t1", at(1)), limit=limit))
    second = await grant_store.rotate(replace(rotation("t1", "t2", at(2)), limit=limit))

    assert isinstance(first, Rotated)
    assert isinstance(second, Throttled)
    assert 1 <= second.wait <= 60
    # The throttled attempt changed nothing: t1 is still current once the window passed.
    later = await grant_store.rotate(replace(rotation("t1", "t2", at(62)), limit=limit))
    assert isinstance(later, Rotated)
