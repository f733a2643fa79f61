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
    await sessions.add(session("s1"))
    assert await sessions.get("s1") == session("s1")
    assert await sessions.get("nope") is None


async def test_touch_moves_last_used_and_expiry(sessions: SessionRepository) -> None:
    await sessions.add(session("s1"))
    await sessions.touch("s1", T0 + DAY, T0 + 8 * DAY)
    found = await sessions.get("s1")
    assert found is not None
    assert (found.last_used_at, found.expires_at) == (T0 + DAY, T0 + 8 * DAY)


async def test_revoke_marks_once_with_time_and_reason(sessions: SessionRepository) -> None:
    await sessions.add(session("s1"))
    assert await sessions.revoke("s1", T0 + DAY, "logout") is True
    assert await sessions.revoke("s1", T0 + 2 * DAY, "again") is False
    assert await sessions.get("s1") == replace(
        session("s1"), revoked_at=T0 + DAY, revoked_reason="logout"
    )


async def test_revoke_all_revokes_only_that_users_live_sessions_but_keep(
    sessions: SessionRepository,
) -> None:
    for sid in ("a", "b", "c"):
        await sessions.add(session(sid))
    await sessions.add(session("other", user_id=2))
    await sessions.revoke("c", T0, "logout")
    assert await sessions.revoke_all(1, T0 + DAY, "revoke_all", keep="a") == ["b"]
    assert await sessions.revoke_all(1, T0 + DAY, "revoke_all") == ["a"]
    other = await sessions.get("other")
    assert other is not None
    assert other.revoked_at is None


async def test_list_live_is_newest_first_without_revoked_or_expired(
    sessions: SessionRepository,
) -> None:
    await sessions.add(session("old", created=T0))
    await sessions.add(session("new", created=T0 + timedelta(hours=1)))
    await sessions.add(session("gone", created=T0 + timedelta(hours=2)))
    await sessions.add(session("expired", created=T0 - 8 * DAY))
    await sessions.add(session("theirs", user_id=2))
    await sessions.revoke("gone", T0, "logout")
    live = await sessions.list_live(1, T0 + timedelta(hours=3))
    assert [s.id for s in live] == ["new", "old"]


async def test_a_revoked_session_is_not_touched_back_to_life(sessions: SessionRepository) -> None:
    await sessions.add(session("s1"))
    await sessions.revoke("s1", T0, "logout")
    await sessions.touch("s1", T0 + DAY, T0 + 9 * DAY)
    found = await sessions.get("s1")
    assert found is not None
    assert found.expires_at == T0 + 7 * DAY
