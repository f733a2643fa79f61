"""SessionRepository contract: every adapter, including the unit tests' fake."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

from domain.entities import Session
from domain.ports import SessionRepository

T0 = datetime(2026, 1, 1, tzinfo=UTC)
DAY = timedelta(days=1)


def session(session_id: str, user_id: int = 1, created: datetime = T0) -> Session:
    return Session(
        id=session_id,
        user_id=user_id,
        ip_address="203.0.113.7",
        user_agent="curl/8",
        created_at=created,
        last_used_at=created,
        expires_at=created + 7 * DAY,
    )


async def test_an_added_session_reads_back_equal(sessions: SessionRepository) -> None:
    await sessions.add(session("s1"), told=None)
    assert await sessions.get("s1") == session("s1")
    assert await sessions.get("nope") is None


async def test_touch_moves_last_used_and_expiry(sessions: SessionRepository) -> None:
    await sessions.add(session("s1"), told=None)
    await sessions.touch("s1", T0 + DAY, T0 + 8 * DAY)
    found = await sessions.get("s1")
    assert found is not None
    assert (found.last_used_at, found.expires_at) == (T0 + DAY, T0 + 8 * DAY)


async def test_revoke_marks_once_with_time_and_reason(sessions: SessionRepository) -> None:
    await sessions.add(session("s1"), told=None)
    assert await sessions.revoke("s1", T0 + DAY, "logout", told=None) is True
    assert await sessions.revoke("s1", T0 + 2 * DAY, "again", told=None) is False
    assert await sessions.get("s1") == replace(
        session("s1"), revoked_at=T0 + DAY, revoked_reason="logout"
    )


async def test_revoke_all_revokes_only_that_users_live_sessions_but_keep(
    sessions: SessionRepository,
) -> None:
    for sid in ("a", "b", "c"):
        await sessions.add(session(sid), told=None)
    await sessions.add(session("other", user_id=2), told=None)
    await sessions.revoke("c", T0, "logout", told=None)
    assert await sessions.revoke_all(1, T0 + DAY, "revoke_all", keep="a", told=None) == ["b"]
    assert await sessions.revoke_all(1, T0 + DAY, "revoke_all", told=None) == ["a"]
    other = await sessions.get("other")
    assert other is not None
    assert other.revoked_at is None


async def test_list_live_is_newest_first_without_revoked_or_expired(
    sessions: SessionRepository,
) -> None:
    await sessions.add(session("old", created=T0), told=None)
    await sessions.add(session("new", created=T0 + timedelta(hours=1)), told=None)
    await sessions.add(session("gone", created=T0 + timedelta(hours=2)), told=None)
    await sessions.add(session("expired", created=T0 - 8 * DAY), told=None)
    await sessions.add(session("theirs", user_id=2), told=None)
    await sessions.revoke("gone", T0, "logout", told=None)
    live = await sessions.list_live(1, T0 + timedelta(hours=3))
    assert [s.id for s in live] == ["new", "old"]


async def test_a_revoked_session_is_not_touched_back_to_life(sessions: SessionRepository) -> None:
    await sessions.add(session("s1"), told=None)
    await sessions.revoke("s1", T0, "logout", told=None)
    await sessions.touch("s1", T0 + DAY, T0 + 9 * DAY)
    found = await sessions.get("s1")
    assert found is not None
    assert found.expires_at == T0 + 7 * DAY


async def test_revoke_many_revokes_only_the_live_ones_in_one_step(
    sessions: SessionRepository,
) -> None:
    for sid in ("a", "b", "c"):
        await sessions.add(session(sid), told=None)
    await sessions.add(session("theirs", user_id=2), told=None)
    await sessions.revoke("b", T0, "logout", told=None)
    revoked = await sessions.revoke_many(
        ["a", "b", "theirs", "nope"], T0 + DAY, "grant_lost", told=None
    )
    assert sorted(revoked) == ["a", "theirs"]
    assert await sessions.get("a") == replace(
        session("a"), revoked_at=T0 + DAY, revoked_reason="grant_lost"
    )
    b = await sessions.get("b")
    assert b is not None
    assert (b.revoked_at, b.revoked_reason) == (T0, "logout")
    c = await sessions.get("c")
    assert c is not None
    assert c.revoked_at is None
    assert await sessions.revoke_many([], T0, "grant_lost", told=None) == []


async def test_revoked_since_lists_every_users_later_revocations_oldest_first(
    sessions: SessionRepository,
) -> None:
    for sid, owner in (("early", 1), ("late", 1), ("theirs", 2), ("live", 1)):
        await sessions.add(session(sid, user_id=owner), told=None)
    await sessions.revoke("early", T0, "logout", told=None)
    await sessions.revoke("late", T0 + timedelta(minutes=20), "logout", told=None)
    await sessions.revoke("theirs", T0 + timedelta(minutes=10), "revoke_all", told=None)
    found = await sessions.revoked_since(T0)  # strictly after
    assert [(s.id, s.user_id, s.revoked_at) for s in found] == [
        ("theirs", 2, T0 + timedelta(minutes=10)),
        ("late", 1, T0 + timedelta(minutes=20)),
    ]
    assert await sessions.revoked_since(T0 + DAY) == []


async def test_live_page_walks_every_users_live_sessions_created_before_by_id(
    sessions: SessionRepository,
) -> None:
    for sid in ("d", "a", "c", "b"):
        await sessions.add(session(sid, user_id=2 if sid == "c" else 1), told=None)
    await sessions.add(session("e-revoked"), told=None)
    await sessions.revoke("e-revoked", T0, "logout", told=None)
    await sessions.add(session("f-expired", created=T0 - 8 * DAY), told=None)
    await sessions.add(session("g-later", created=T0 + timedelta(hours=2)), told=None)
    now, before = T0 + timedelta(hours=3), T0 + timedelta(hours=1)
    first = await sessions.live_page(now, before, limit=3)
    assert [(s.id, s.user_id) for s in first] == [("a", 1), ("b", 1), ("c", 2)]
    rest = await sessions.live_page(now, before, after=first[-1].id, limit=3)
    assert [s.id for s in rest] == ["d"]
    assert await sessions.live_page(now, before, after="d", limit=3) == []


async def test_delete_ended_takes_sessions_started_and_ended_before_the_cutoffs_only(
    sessions: SessionRepository,
) -> None:
    started_before, ended_before = T0 - 5 * DAY, T0
    old = T0 - 10 * DAY  # started before the cutoff, expired at T0 - 3 days
    for sid in ("old", "revoked-early", "revoked-late", "touched-late"):
        await sessions.add(session(sid, created=old), told=None)
    await sessions.add(
        replace(session("started-late", created=T0 - 4 * DAY), expires_at=T0 - DAY), told=None
    )
    await sessions.add(session("live", created=T0 - DAY), told=None)
    await sessions.add(session("theirs", user_id=2, created=old), told=None)
    await sessions.revoke("revoked-early", T0 - 2 * DAY, "logout", told=None)
    await sessions.revoke("revoked-late", ended_before, "revoke_all", told=None)  # not before: kept
    await sessions.touch("touched-late", T0 - DAY, T0 + DAY)  # a longer lifetime, say

    assert await sessions.delete_ended(started_before, ended_before, 100) == 3

    for gone in ("old", "revoked-early", "theirs"):
        assert await sessions.get(gone) is None
    for kept in ("revoked-late", "touched-late", "started-late", "live"):
        assert await sessions.get(kept) is not None, kept
    live = await sessions.list_live(1, T0)
    assert [s.id for s in live] == ["live", "touched-late"]
    assert await sessions.delete_ended(started_before, ended_before, 100) == 0


async def test_delete_ended_deletes_at_most_limit_a_call(sessions: SessionRepository) -> None:
    for number in range(5):
        await sessions.add(session(f"s{number}", created=T0 - 10 * DAY), told=None)

    counts = [await sessions.delete_ended(T0, T0, 2) for _ in range(4)]

    assert counts == [2, 2, 1, 0]
    assert [await sessions.get(f"s{number}") for number in range(5)] == [None] * 5
