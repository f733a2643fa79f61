"""Security events (Shared Signals) on SQLite and PostgreSQL: ending a session's row writes
its session-revoked event in the same transaction, once; receivers read what they have not
acknowledged, each stream for itself; events older than the cutoff go, and so do streams
nobody polls."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import timedelta

import pytest

from domain.entities import Session
from domain.ports import SecurityEvents, SessionRepository, SignalStream
from infrastructure.persistence.database import Database
from infrastructure.persistence.security_events import SqlSecurityEvents
from infrastructure.persistence.sessions import SqlSessionRepository
from tests.contract.conftest import OWNERS_CREATED

NOW = OWNERS_CREATED + timedelta(days=1)
SINCE = NOW - timedelta(minutes=16)


@pytest.fixture
def database(mail_clients: Callable[[], Database]) -> Database:
    return mail_clients()  # users 1 and 2 exist


@pytest.fixture
def sessions(database: Database) -> SessionRepository:
    return SqlSessionRepository(database)


@pytest.fixture
def events(database: Database) -> SecurityEvents:
    return SqlSecurityEvents(database)


async def opened(
    events: SecurityEvents, stream_id: str, receiver: str = "orders", polled_at=NOW
) -> str:
    stream = SignalStream(id=stream_id, receiver=receiver, created_at=NOW, polled_at=polled_at)
    assert await events.open_stream(stream, 100)
    return stream_id


async def started(sessions: SessionRepository, session_id: str, user_id: int = 1) -> None:
    await sessions.add(
        Session(
            id=session_id,
            user_id=user_id,
            ip_address=None,
            user_agent=None,
            created_at=NOW - timedelta(hours=1),
            last_used_at=NOW - timedelta(hours=1),
            expires_at=NOW + timedelta(days=1),
        ),
        told=None,
    )


async def test_ending_a_row_records_one_event_with_its_reason(sessions, events):
    await started(sessions, "s1")
    await started(sessions, "s2")
    await started(sessions, "s3", user_id=2)

    assert await sessions.revoke("s1", NOW, "logout")
    assert not await sessions.revoke("s1", NOW, "logout")  # already ended: nothing more
    await sessions.revoke_all(1, NOW, "revoke_all")
    await sessions.revoke_many(["s3"], NOW, "admin")

    found = await events.unacknowledged(await opened(events, "o1"), SINCE, 10)
    assert [(e.session_id, e.reason, e.kind) for e in found] == [
        ("s1", "logout", "session-revoked"),
        ("s2", "revoke_all", "session-revoked"),
        ("s3", "admin", "session-revoked"),
    ]
    assert [e.occurred_at for e in found] == [NOW] * 3
    assert [e.id for e in found] == sorted(e.id for e in found)


async def test_each_stream_acknowledges_for_itself_and_unknown_ids_are_ignored(sessions, events):
    orders, sibling, billing = (
        await opened(events, "o1"),
        await opened(events, "o2"),
        await opened(events, "b1", "billing"),
    )
    for n in range(3):
        await started(sessions, f"s{n}")
        await sessions.revoke(f"s{n}", NOW, "logout")
    first, second, third = await events.unacknowledged(orders, SINCE, 10)

    assert await events.polled("orders", orders, NOW, [first.id, third.id, 999_999])
    assert await events.polled("orders", orders, NOW, [first.id])  # twice: no error
    assert not await events.polled("orders", "never-opened", NOW, [first.id])  # nothing done
    assert not await events.polled("billing", orders, NOW, [second.id])  # not billing's

    assert await events.unacknowledged(orders, SINCE, 10) == [second]
    assert len(await events.unacknowledged(sibling, SINCE, 10)) == 3
    assert len(await events.unacknowledged(billing, SINCE, 10)) == 3
    assert await events.unacknowledged(orders, SINCE, 0) == []


async def test_old_events_are_not_read_and_are_deleted_with_their_acknowledgements(
    sessions, events
):
    await started(sessions, "old")
    await sessions.revoke("old", NOW - timedelta(hours=1), "logout")
    await started(sessions, "new")
    await sessions.revoke("new", NOW, "logout")
    orders, billing = await opened(events, "o1"), await opened(events, "b1", "billing")
    [old] = await events.unacknowledged(orders, NOW - timedelta(days=1), 1)
    assert await events.polled("orders", orders, NOW, [old.id])

    assert [e.session_id for e in await events.unacknowledged(billing, SINCE, 10)] == ["new"]
    assert await events.delete_before(SINCE, 10) == 1
    assert await events.delete_before(SINCE, 10) == 0
    assert [
        e.session_id for e in await events.unacknowledged(orders, NOW - timedelta(days=1), 10)
    ] == ["new"]


async def test_the_newest_event_is_the_one_written_last_and_none_once_all_are_gone(
    sessions, events
):
    assert await events.newest() is None
    for session_id in ("s1", "s2"):
        await started(sessions, session_id)
        await sessions.revoke(session_id, NOW - timedelta(hours=1), "logout")
        [*_, last] = await events.unacknowledged(
            await opened(events, f"o-{session_id}"), NOW - timedelta(days=1), 10
        )
        assert last.session_id == session_id
        assert await events.newest() == last.id

    await events.delete_before(NOW, 10)

    assert await events.newest() is None


async def test_a_stream_is_open_from_its_opening_to_its_closing(events):
    assert not await events.is_open("o1")
    await opened(events, "o1")
    assert await events.is_open("o1")
    assert await events.close_stream("orders", "o1")
    assert not await events.is_open("o1")


async def test_without_receivers_a_session_ends_and_no_event_is_written(database, events):
    sessions = SqlSessionRepository(database, signals=False)
    await started(sessions, "s1")
    await started(sessions, "s2")

    assert await sessions.revoke("s1", NOW, "logout")
    assert await sessions.revoke_all(1, NOW, "revoke_all") == ["s2"]

    assert await events.unacknowledged(await opened(events, "o1"), SINCE, 10) == []
    assert await sessions.list_live(1, NOW) == []


async def test_a_receiver_opens_lists_polls_and_closes_its_own_streams_only(events):
    await opened(events, "o1")
    await opened(events, "o2")
    await opened(events, "b1", "billing")

    assert [s.id for s in await events.streams("orders")] == ["o1", "o2"]
    assert (await events.streams("billing"))[0] == SignalStream(
        id="b1", receiver="billing", created_at=NOW, polled_at=NOW
    )
    later = NOW + timedelta(minutes=1)
    assert await events.polled("orders", "o2", later, [])
    assert not await events.polled("orders", "b1", later, [])  # another receiver's
    assert not await events.polled("orders", "nope", later, [])
    assert [s.polled_at for s in await events.streams("orders")] == [NOW, later]

    assert not await events.close_stream("orders", "b1")
    assert await events.close_stream("orders", "o1")
    assert not await events.close_stream("orders", "o1")
    assert [s.id for s in await events.streams("orders")] == ["o2"]
    assert [s.id for s in await events.streams("billing")] == ["b1"]


async def test_a_receiver_opens_no_more_streams_than_allowed_even_all_at_once(events):
    def stream(n: int, receiver: str = "orders") -> SignalStream:
        return SignalStream(id=f"{receiver}{n}", receiver=receiver, created_at=NOW, polled_at=NOW)

    results = await asyncio.gather(*(events.open_stream(stream(n), 3) for n in range(8)))

    assert sorted(results) == [False] * 5 + [True] * 3
    assert len(await events.streams("orders")) == 3
    assert await events.open_stream(stream(0, "billing"), 3)


async def test_closing_a_stream_or_its_going_idle_takes_its_acknowledgements(sessions, events):
    await started(sessions, "s1")
    await sessions.revoke("s1", NOW, "logout")
    idle = await opened(events, "idle", polled_at=NOW - timedelta(hours=1))
    live = await opened(events, "live", polled_at=NOW - timedelta(minutes=1))
    [event] = await events.unacknowledged(idle, SINCE, 10)
    assert await events.polled("orders", idle, NOW - timedelta(hours=1), [event.id])
    assert await events.polled("orders", live, NOW - timedelta(minutes=1), [event.id])

    assert await events.close_idle(NOW - timedelta(minutes=30), 10) == 1
    assert await events.close_idle(NOW - timedelta(minutes=30), 10) == 0
    assert [s.id for s in await events.streams("orders")] == ["live"]
    # an id used again starts afresh: nothing of the closed stream's is left
    await opened(events, "idle")
    assert await events.unacknowledged("idle", SINCE, 10) == [event]
    assert await events.unacknowledged(live, SINCE, 10) == []


async def test_a_stream_closed_while_it_is_polled_leaves_no_error_and_no_acknowledgement(
    database, sessions, events
):
    for n in range(3):
        await started(sessions, f"s{n}")
        await sessions.revoke(f"s{n}", NOW, "logout")
    ids = [e.id for e in await events.unacknowledged("any", SINCE, 10)]
    for round_ in range(20):
        stream_id = await opened(events, f"race{round_}")
        await asyncio.gather(
            events.polled("orders", stream_id, NOW, ids), events.close_stream("orders", stream_id)
        )
    assert await events.streams("orders") == []
    async with database.transaction(write=False) as tx:
        left = await tx.fetchone("SELECT COUNT(*) AS n FROM security_event_acks")
    assert left is not None
    assert int(left["n"]) == 0
