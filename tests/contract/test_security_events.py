"""Security events (Shared Signals) on SQLite and PostgreSQL: ending a session's row writes
its session-revoked event in the same transaction, once; receivers read what they have not
acknowledged, each for itself; events older than the cutoff go."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

import pytest

from domain.entities import Session
from domain.ports import SecurityEvents, SessionRepository
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

    found = await events.unacknowledged("orders", SINCE, 10)
    assert [(e.session_id, e.reason, e.kind) for e in found] == [
        ("s1", "logout", "session-revoked"),
        ("s2", "revoke_all", "session-revoked"),
        ("s3", "admin", "session-revoked"),
    ]
    assert [e.occurred_at for e in found] == [NOW] * 3
    assert [e.id for e in found] == sorted(e.id for e in found)


async def test_each_receiver_acknowledges_for_itself_and_unknown_ids_are_ignored(sessions, events):
    for n in range(3):
        await started(sessions, f"s{n}")
        await sessions.revoke(f"s{n}", NOW, "logout")
    first, second, third = await events.unacknowledged("orders", SINCE, 10)

    await events.acknowledge("orders", [first.id, third.id, 999_999])
    await events.acknowledge("orders", [first.id])  # twice: no error

    assert await events.unacknowledged("orders", SINCE, 10) == [second]
    assert len(await events.unacknowledged("billing", SINCE, 10)) == 3
    assert await events.unacknowledged("orders", SINCE, 0) == []


async def test_old_events_are_not_read_and_are_deleted_with_their_acknowledgements(
    sessions, events
):
    await started(sessions, "old")
    await sessions.revoke("old", NOW - timedelta(hours=1), "logout")
    await started(sessions, "new")
    await sessions.revoke("new", NOW, "logout")
    [old] = await events.unacknowledged("orders", NOW - timedelta(days=1), 1)
    await events.acknowledge("orders", [old.id])

    assert [e.session_id for e in await events.unacknowledged("billing", SINCE, 10)] == ["new"]
    assert await events.delete_before(SINCE, 10) == 1
    assert await events.delete_before(SINCE, 10) == 0
    assert [
        e.session_id for e in await events.unacknowledged("orders", NOW - timedelta(days=1), 10)
    ] == ["new"]


async def test_without_receivers_a_session_ends_and_no_event_is_written(database, events):
    sessions = SqlSessionRepository(database, signals=False)
    await started(sessions, "s1")
    await started(sessions, "s2")

    assert await sessions.revoke("s1", NOW, "logout")
    assert await sessions.revoke_all(1, NOW, "revoke_all") == ["s2"]

    assert await events.unacknowledged("orders", SINCE, 10) == []
    assert await sessions.list_live(1, NOW) == []
