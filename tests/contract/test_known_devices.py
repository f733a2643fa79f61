"""Known devices (``KnownDevices``): first, known, new; each account apart; a concurrent
first sign-in from one device counted once; deleted with the account. On the memory fake,
SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path

import pytest

from domain.entities import NewUser
from domain.ports import DeviceSeen, KnownDevices
from infrastructure.persistence.devices import SqlKnownDevices
from infrastructure.persistence.users import SqlUserRepository
from tests.contract.conftest import OWNERS_CREATED, SESSION_OWNERS, adapters, sql_database
from tests.fakes.devices import MemoryKnownDevices

NOW = OWNERS_CREATED + timedelta(days=1)


@pytest.fixture(params=adapters(["memory", "sqlite", "postgres"]))
async def devices(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[KnownDevices]:
    """Devices of a store with users 1 and 2."""
    if request.param == "memory":
        yield MemoryKnownDevices()
        return
    async with sql_database(request.param, request, tmp_path) as database:
        for email in SESSION_OWNERS:
            await SqlUserRepository(database).add(
                NewUser(email=email, password_hash="h", name=None, role="user", created_at=NOW)
            )
        yield SqlKnownDevices(database)


async def test_the_first_device_then_the_same_then_a_new_one(devices: KnownDevices) -> None:
    assert await devices.remember(1, "laptop", NOW) is DeviceSeen.FIRST
    assert await devices.remember(1, "laptop", NOW) is DeviceSeen.KNOWN
    assert await devices.remember(1, "phone", NOW) is DeviceSeen.NEW
    assert await devices.remember(1, "phone", NOW) is DeviceSeen.KNOWN


async def test_each_account_has_its_own_devices(devices: KnownDevices) -> None:
    await devices.remember(1, "laptop", NOW)
    assert await devices.remember(2, "laptop", NOW) is DeviceSeen.FIRST


async def test_of_concurrent_sign_ins_from_one_new_device_one_sees_it_new(
    devices: KnownDevices,
) -> None:
    await devices.remember(1, "laptop", NOW)
    seen = await asyncio.gather(*(devices.remember(1, "phone", NOW) for _ in range(5)))
    assert sorted(seen) == sorted([DeviceSeen.NEW] + [DeviceSeen.KNOWN] * 4)


async def test_devices_first_seen_since_a_time_are_forgotten_and_new_again(
    devices: KnownDevices,
) -> None:
    await devices.remember(1, "laptop", NOW)
    await devices.remember(1, "phone", NOW + timedelta(minutes=5))
    await devices.remember(1, "tablet", NOW + timedelta(minutes=6))
    await devices.remember(2, "phone", NOW + timedelta(minutes=5))

    assert await devices.forget_since(1, NOW + timedelta(minutes=5)) == 2

    assert await devices.remember(1, "laptop", NOW) is DeviceSeen.KNOWN
    assert await devices.remember(1, "phone", NOW) is DeviceSeen.NEW
    assert await devices.remember(2, "phone", NOW) is DeviceSeen.KNOWN
