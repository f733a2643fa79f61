"""ExpiredGrants contract: the grant stores that keep expired token families until told
(SQL, and the in-process one) delete those expired before a cutoff, a batch at a time."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Protocol

import pytest

from domain.assurance import Assurance
from domain.entities import RefreshGrant
from domain.ports import ExpiredGrants, RefreshGrantStore
from infrastructure.grants.memory import MemoryGrantStore
from infrastructure.grants.sql import SqlGrantStore
from infrastructure.persistence.database import Database
from tests.contract.conftest import adapters

SIGNED_IN = Assurance(datetime(2026, 1, 1, tzinfo=UTC), ("pwd",))

NOW = datetime(2026, 1, 1, tzinfo=UTC)
DAY = timedelta(days=1)


class ExpiringStore(RefreshGrantStore, ExpiredGrants, Protocol):
    pass


@pytest.fixture(params=adapters(["memory", "sqlite", "postgres"]))
def store(request: pytest.FixtureRequest) -> ExpiringStore:
    if request.param == "memory":
        return MemoryGrantStore()
    database: Database = request.getfixturevalue(f"{request.param}_db")
    return SqlGrantStore(database)


def grant(session_id: str, idle: datetime, absolute: datetime | None = None) -> RefreshGrant:
    return RefreshGrant(
        session_id=session_id,
        user_id=1,
        token_hash=f"hash-{session_id}",
        idle_expires_at=idle,
        absolute_expires_at=absolute or idle + 20 * DAY,
        assurance=SIGNED_IN,
    )


async def test_families_expired_before_the_cutoff_go_and_the_others_stay(
    store: ExpiringStore,
) -> None:
    await store.issue(grant("idle-gone", NOW - 2 * DAY), NOW - 9 * DAY)
    await store.issue(grant("absolute-gone", NOW + DAY, NOW - DAY), NOW - 30 * DAY)
    await store.issue(grant("at-cutoff", NOW), NOW - 7 * DAY)
    await store.issue(grant("live", NOW + 7 * DAY), NOW)

    assert await store.delete_expired(NOW, 10) == 2

    names = ["idle-gone", "absolute-gone", "at-cutoff", "live"]
    assert await store.with_grants(names) == {"at-cutoff", "live"}
    assert await store.delete_expired(NOW, 10) == 0


async def test_expired_families_go_at_most_limit_a_call(store: ExpiringStore) -> None:
    for number in range(5):
        await store.issue(grant(f"s{number}", NOW - DAY), NOW - 8 * DAY)

    counts = [await store.delete_expired(NOW, 2) for _ in range(4)]

    assert counts == [2, 2, 1, 0]
    assert await store.with_grants([f"s{number}" for number in range(5)]) == set()
