"""The second-factor stores, one suite over memory, SQLite and PostgreSQL: TOTP secrets with
their last used step, recovery codes, passkeys. Every single-use rule holds under races of
clients with pools of their own, as several worker processes would be."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import pytest

from domain.entities import NewPasskey
from domain.errors import PasskeyExists
from tests.contract.conftest import OWNERS_CREATED, SecondFactorStores

NOW = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
ADA, BOB = 1, 2
STEP = 59_000_000
CODES = [f"digest-{n}" for n in range(10)]

Clients = Callable[[], SecondFactorStores]


async def activated(stores: SecondFactorStores, user_id: int = ADA) -> None:
    assert await stores.totp.start(user_id, "sealed", NOW)
    assert await stores.totp.activate(user_id, "sealed", STEP, CODES, NOW, told=None)


def new_passkey(credential_id: bytes, user_id: int = ADA, **changes: object) -> NewPasskey:
    fields: dict[str, object] = {
        "user_id": user_id,
        "credential_id": credential_id,
        "public_key": b"\xa5\x01\x02\x03\x26\x00",
        "sign_count": 0,
        "transports": ("internal", "hybrid"),
        "user_handle": b"\x00handle\xff" * 4,
        "name": "Laptop",
        "created_at": NOW,
    }
    return NewPasskey(**(fields | changes))  # type: ignore[arg-type]


# --- TOTP secrets ---------------------------------------------------------------------------


async def test_a_new_secret_is_pending_until_activated(second_factors: SecondFactorStores):
    totp = second_factors.totp
    assert await totp.get(ADA) is None
    assert await totp.start(ADA, "first", NOW)
    assert await totp.start(ADA, "second", NOW + timedelta(seconds=5))  # replaces a pending one

    pending = await totp.get(ADA)
    assert pending is not None
    assert (pending.sealed_secret, pending.active, pending.last_step) == ("second", False, None)

    assert not await totp.activate(ADA, "first", STEP, CODES, NOW, told=None)  # replaced
    assert await totp.activate(ADA, "second", STEP, CODES, NOW, told=None)
    active = await totp.get(ADA)
    assert active is not None
    assert (active.sealed_secret, active.active, active.last_step) == ("second", True, STEP)
    assert active.confirmed_at == NOW
    assert await totp.get(BOB) is None


async def test_turning_the_app_on_moves_the_owners_updated_at(second_factors: SecondFactorStores):
    """A one-factor sign-in under way sees the change in the user row it reads once more."""
    assert await second_factors.totp.start(ADA, "sealed", NOW)
    assert await second_factors.totp.activate(ADA, "sealed", STEP, CODES, NOW, told=None)

    owner = await second_factors.users.get(ADA)
    other = await second_factors.users.get(BOB)
    assert owner is not None
    assert other is not None
    assert (owner.updated_at, other.updated_at) == (NOW, OWNERS_CREATED)


async def test_an_active_secret_is_not_replaced_nor_activated_again(
    second_factors: SecondFactorStores,
):
    await activated(second_factors)
    assert not await second_factors.totp.start(ADA, "attacker's", NOW)
    assert not await second_factors.totp.activate(
        ADA, "sealed", STEP + 5, ["other"], NOW, told=None
    )
    credential = await second_factors.totp.get(ADA)
    assert credential is not None
    assert (credential.sealed_secret, credential.last_step) == ("sealed", STEP)
    assert await second_factors.recovery.use(ADA, CODES[0], NOW, told=None)  # the first set stands


async def test_nothing_pending_activates_nothing(second_factors: SecondFactorStores):
    assert not await second_factors.totp.activate(ADA, "sealed", STEP, CODES, NOW, told=None)
    assert await second_factors.totp.get(ADA) is None
    assert not await second_factors.recovery.use(ADA, CODES[0], NOW, told=None)


async def test_only_a_step_after_the_last_used_one_is_accepted(
    second_factors: SecondFactorStores,
):
    totp = second_factors.totp
    assert await totp.start(ADA, "sealed", NOW)
    assert not await totp.use_step(ADA, STEP)  # a pending secret accepts no code
    assert await totp.activate(ADA, "sealed", STEP, CODES, NOW, told=None)

    assert not await totp.use_step(ADA, STEP)  # the confirming code is spent
    assert not await totp.use_step(ADA, STEP - 1)
    assert await totp.use_step(ADA, STEP + 1)
    assert not await totp.use_step(ADA, STEP + 1)
    assert await totp.use_step(ADA, STEP + 3)
    assert not await totp.use_step(ADA, STEP + 2)  # older than the last used one
    assert not await totp.use_step(BOB, STEP + 10)


async def test_of_ten_clients_using_one_step_exactly_one_wins(second_factor_clients: Clients):
    await activated(second_factor_clients())
    clients = [second_factor_clients() for _ in range(10)]
    won = await asyncio.gather(*(c.totp.use_step(ADA, STEP + 1) for c in clients))
    assert sorted(won) == [False] * 9 + [True]


async def test_of_five_clients_activating_one_pending_secret_exactly_one_wins(
    second_factor_clients: Clients,
):
    assert await second_factor_clients().totp.start(ADA, "sealed", NOW)
    clients = [second_factor_clients() for _ in range(5)]
    won = await asyncio.gather(
        *(
            c.totp.activate(ADA, "sealed", STEP, [f"set-{n}"], NOW, told=None)
            for n, c in enumerate(clients)
        )
    )
    assert sorted(won) == [False] * 4 + [True]
    winner = won.index(True)
    assert await clients[0].recovery.use(ADA, f"set-{winner}", NOW, told=None)


async def test_removing_drops_the_secret_and_its_recovery_codes(
    second_factors: SecondFactorStores,
):
    await activated(second_factors)
    await activated(second_factors, BOB)
    assert await second_factors.totp.remove(ADA, NOW, told=None)
    assert await second_factors.totp.get(ADA) is None
    assert not await second_factors.recovery.use(ADA, CODES[0], NOW, told=None)
    assert not await second_factors.totp.remove(ADA, NOW, told=None)
    assert await second_factors.recovery.use(BOB, CODES[0], NOW, told=None)  # Bob's are his own


async def test_removing_a_pending_secret_drops_it_but_reports_no_active_one(
    second_factors: SecondFactorStores,
):
    assert await second_factors.totp.start(ADA, "sealed", NOW)
    assert not await second_factors.totp.remove(ADA, NOW, told=None)
    assert await second_factors.totp.get(ADA) is None


# --- Recovery codes -------------------------------------------------------------------------


async def test_each_recovery_code_is_used_once_and_only_by_its_user(
    second_factors: SecondFactorStores,
):
    await activated(second_factors)
    recovery = second_factors.recovery
    assert not await recovery.use(BOB, CODES[3], NOW, told=None)
    assert await recovery.use(ADA, CODES[3], NOW, told=None)
    assert not await recovery.use(ADA, CODES[3], NOW, told=None)
    assert not await recovery.use(ADA, "never issued", NOW, told=None)
    assert await recovery.use(ADA, CODES[4], NOW, told=None)


async def test_the_codes_left_are_the_unused_ones_of_the_user(
    second_factors: SecondFactorStores,
):
    recovery = second_factors.recovery
    assert await recovery.left(ADA) == 0
    await activated(second_factors)
    assert await recovery.left(ADA) == len(CODES)
    assert await recovery.use(ADA, CODES[0], NOW, told=None)
    assert not await recovery.use(ADA, CODES[0], NOW, told=None)
    assert (await recovery.left(ADA), await recovery.left(BOB)) == (len(CODES) - 1, 0)
    await recovery.replace(ADA, ["new-1", "new-2"], NOW, told=None)
    assert await recovery.left(ADA) == 2
    assert await second_factors.totp.remove(ADA, NOW, told=None)
    assert await recovery.left(ADA) == 0


async def test_a_new_set_kills_the_old_one(second_factors: SecondFactorStores):
    await activated(second_factors)
    await second_factors.recovery.replace(ADA, ["new-1", "new-2"], NOW, told=None)
    assert not await second_factors.recovery.use(ADA, CODES[0], NOW, told=None)
    assert await second_factors.recovery.use(ADA, "new-2", NOW, told=None)


async def test_of_ten_clients_using_one_recovery_code_exactly_one_wins(
    second_factor_clients: Clients,
):
    await activated(second_factor_clients())
    clients = [second_factor_clients() for _ in range(10)]
    won = await asyncio.gather(*(c.recovery.use(ADA, CODES[0], NOW, told=None) for c in clients))
    assert sorted(won) == [False] * 9 + [True]


# --- Passkeys -------------------------------------------------------------------------------


async def test_a_passkey_keeps_its_bytes_counter_and_transports(
    second_factors: SecondFactorStores,
):
    passkeys = second_factors.passkeys
    added = await passkeys.add(new_passkey(b"\x00cred\xff"), told=None)
    found = await passkeys.by_credential(b"\x00cred\xff")
    assert found == added
    assert found.user_id == ADA
    assert (found.public_key, found.user_handle) == (
        b"\xa5\x01\x02\x03\x26\x00",
        b"\x00handle\xff" * 4,
    )
    assert (found.sign_count, found.transports, found.name) == (0, ("internal", "hybrid"), "Laptop")
    assert (found.created_at, found.last_used_at) == (NOW, None)
    assert await passkeys.by_credential(b"\x00cred") is None

    bare = await passkeys.add(new_passkey(b"other", transports=(), name=None), told=None)
    assert (bare.transports, bare.name) == ((), None)


async def test_a_credential_id_is_registered_once(second_factors: SecondFactorStores):
    await second_factors.passkeys.add(new_passkey(b"cred"), told=None)
    with pytest.raises(PasskeyExists):
        await second_factors.passkeys.add(new_passkey(b"cred", user_id=BOB), told=None)
    assert await second_factors.passkeys.of_user(BOB) == []


async def test_a_users_passkeys_are_listed_oldest_first(second_factors: SecondFactorStores):
    passkeys = second_factors.passkeys
    later = await passkeys.add(
        new_passkey(b"later", created_at=NOW + timedelta(hours=1)), told=None
    )
    first = await passkeys.add(new_passkey(b"first"), told=None)
    await passkeys.add(new_passkey(b"bob's", user_id=BOB), told=None)
    assert [p.id for p in await passkeys.of_user(ADA)] == [first.id, later.id]


async def test_the_counter_moves_only_from_the_value_seen(second_factors: SecondFactorStores):
    passkeys = second_factors.passkeys
    added = await passkeys.add(new_passkey(b"cred", sign_count=5), told=None)
    assert not await passkeys.record_use(added.id, 4, 9, NOW)
    assert await passkeys.record_use(added.id, 5, 9, NOW + timedelta(minutes=1))
    used = await passkeys.by_credential(b"cred")
    assert used is not None
    assert (used.sign_count, used.last_used_at) == (9, NOW + timedelta(minutes=1))
    assert not await passkeys.record_use(added.id, 5, 10, NOW)


async def test_of_ten_clients_counting_one_use_exactly_one_wins(second_factor_clients: Clients):
    added = await second_factor_clients().passkeys.add(
        new_passkey(b"cred", sign_count=1), told=None
    )
    clients = [second_factor_clients() for _ in range(10)]
    won = await asyncio.gather(*(c.passkeys.record_use(added.id, 1, 2, NOW) for c in clients))
    assert sorted(won) == [False] * 9 + [True]


async def test_a_passkey_is_removed_only_by_its_user(second_factors: SecondFactorStores):
    passkeys = second_factors.passkeys
    mine = await passkeys.add(new_passkey(b"mine"), told=None)
    assert not await passkeys.remove(BOB, mine.id, NOW, told=None)
    assert await passkeys.remove(ADA, mine.id, NOW, told=None)
    assert not await passkeys.remove(ADA, mine.id, NOW, told=None)
    assert await passkeys.by_credential(b"mine") is None


async def test_removing_all_of_a_users_passkeys_names_them(second_factors: SecondFactorStores):
    passkeys = second_factors.passkeys
    one = await passkeys.add(new_passkey(b"one"), told=None)
    two = await passkeys.add(new_passkey(b"two"), told=None)
    bobs = await passkeys.add(new_passkey(b"bob's", user_id=BOB), told=None)
    assert await passkeys.remove_all(ADA, NOW, told=None) == [one.id, two.id]
    assert await passkeys.remove_all(ADA, NOW, told=None) == []
    assert [p.id for p in await passkeys.of_user(BOB)] == [bobs.id]
