"""The Valkey grant store's rotation runs only before its deadline, on Valkey's own clock
(``deadline.lua``): one that Valkey reaches late (it was stopped, SIGSTOP, while the command
waited in its buffer) changes nothing, and a clock here that disagrees with Valkey's costs
no rotation."""

from __future__ import annotations

import asyncio
import hashlib
import time
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime, timedelta

import pytest

from domain.assurance import Assurance
from domain.entities import RefreshGrant
from domain.errors import StorageUnavailable
from domain.ports import Rotated, Rotation
from infrastructure.grants.valkey import ValkeyGrantStore, open_valkey
from infrastructure.grants.valkey.grant_store import ROTATION_BUDGET
from tests.backends.valkey import ValkeyProcess, valkey_process

SIGNED_IN = Assurance(datetime(2026, 1, 1, tzinfo=UTC), ("pwd",))

pytestmark = pytest.mark.backends

NOW = datetime(2026, 1, 1, tzinfo=UTC)  # the grant's own times: not Valkey's clock


class NoSessions:
    async def session_ids_of(self, user_id: int) -> list[str]:
        return []


def h(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def rotation(presented: str, successor: str, generation: int) -> Rotation:
    return Rotation(
        session_id="s1",
        presented_hash=h(presented),
        presented_generation=generation,
        successor_hash=h(successor),
        now=NOW,
        idle_ttl=timedelta(minutes=30),
        grace=timedelta(seconds=10),
        deny_until=NOW + timedelta(minutes=15),
    )


@pytest.fixture
def valkey() -> Iterator[ValkeyProcess]:
    with valkey_process() as server:
        yield server


async def issued(store: ValkeyGrantStore) -> ValkeyGrantStore:
    """``store`` with session s1's family, its current token t0."""
    grant = RefreshGrant(
        session_id="s1",
        user_id=1,
        token_hash=h("t0"),
        idle_expires_at=NOW + timedelta(minutes=30),
        absolute_expires_at=NOW + timedelta(days=1),
        role="user",
        assurance=SIGNED_IN,
    )
    await store.issue(grant, NOW)
    return store


async def reaches_valkey_late(
    store: ValkeyGrantStore, valkey: ValkeyProcess, step: Rotation
) -> None:
    """Valkey stopped while the rotation is sent, resumed past its deadline but before the
    client's read timeout: refused, a 503 for the caller."""
    valkey.pause()
    late = asyncio.create_task(store.rotate(step))
    await asyncio.sleep(ROTATION_BUDGET + 0.5)
    valkey.resume()
    with pytest.raises(StorageUnavailable) as refused:
        await late
    assert isinstance(refused.value.__cause__, TimeoutError)


@pytest.fixture
async def store(valkey: ValkeyProcess) -> AsyncIterator[ValkeyGrantStore]:
    client = open_valkey(valkey.url)
    yield await issued(ValkeyGrantStore(client, NoSessions(), "deadline:"))
    await client.aclose()


async def test_a_rotation_valkey_reaches_after_its_deadline_changes_nothing(
    store: ValkeyGrantStore, valkey: ValkeyProcess
) -> None:
    await reaches_valkey_late(store, valkey, rotation("t0", "t1", 0))

    # t0 is still current: the retry rotates it (not a grace replay of a late rotation).
    assert isinstance(await store.rotate(rotation("t0", "t1", 0)), Rotated)


@pytest.mark.parametrize("ours_off_by", [-60.0, 60.0])
async def test_a_clock_here_off_from_valkeys_costs_no_rotation(
    valkey: ValkeyProcess, monkeypatch: pytest.MonkeyPatch, ours_off_by: float
) -> None:
    """Ours behind Valkey's: the first deadline looks past to Valkey, which refuses at once,
    and the refusal's stamp corrects it. Ours ahead: the deadline is late by that much for
    the first rotation only; its stamp corrects the next."""
    skewed = time.time_ns() + round(ours_off_by * 1e9)
    monkeypatch.setattr(time, "time_ns", lambda: skewed)  # what the store starts from
    client = open_valkey(valkey.url)
    try:
        store = await issued(ValkeyGrantStore(client, NoSessions(), "skew:"))
        monkeypatch.undo()
        assert isinstance(await store.rotate(rotation("t0", "t1", 0)), Rotated)
        await reaches_valkey_late(store, valkey, rotation("t1", "t2", 1))
        assert isinstance(await store.rotate(rotation("t1", "t2", 1)), Rotated)
    finally:
        await client.aclose()
