"""What the recovery after a lost grant store asks of the stores: which sessions still
have a grant (every adapter), and whether the store is intact (the integrity port)."""

from __future__ import annotations

import pytest

from domain.errors import StorageUnavailable
from domain.ports import GrantStoreIntegrity, RefreshGrantStore
from infrastructure.grants.valkey import ValkeyGrantStore, open_valkey
from infrastructure.grants.valkey.epoch import ValkeyEpoch, epoch_guard, epoch_key
from tests.contract.conftest import ValkeyBackend
from tests.contract.test_grant_store import ACCESS, BASE, at, grant, rotation


async def test_with_grants_names_the_sessions_whose_family_is_stored(
    grant_store: RefreshGrantStore,
) -> None:
    for sid, token in (("kept", "k0"), ("rotated", "r0"), ("revoked", "v0"), ("reused", "u0")):
        await grant_store.issue(grant(sid, token=token), BASE)
    await grant_store.rotate(rotation("r0", "r1", at(1), session="rotated"))
    await grant_store.revoke_session("revoked", at(1) + ACCESS)
    await grant_store.rotate(rotation("u0", "u1", at(1), session="reused"))
    # reuse: the family is gone
    await grant_store.rotate(rotation("u0", "u2", at(100), session="reused"))
    asked = ["kept", "rotated", "revoked", "reused", "unknown"]
    assert await grant_store.with_grants(asked) == {"kept", "rotated"}
    assert await grant_store.with_grants([]) == set()


async def test_with_grants_answers_for_many_sessions_at_once(
    grant_store: RefreshGrantStore,
) -> None:
    issued = [f"s{n:04d}" for n in range(0, 520, 2)]
    for sid in issued:
        await grant_store.issue(grant(sid, token=f"t-{sid}"), BASE)
    asked = [f"s{n:04d}" for n in range(520)]  # past one IN list of 500
    assert await grant_store.with_grants(asked) == set(issued)


async def test_a_sealed_store_is_intact(grant_integrity: GrantStoreIntegrity) -> None:
    await grant_integrity.seal()
    assert await grant_integrity.intact() is True
    await grant_integrity.seal()
    assert await grant_integrity.intact() is True


async def test_a_store_that_can_lose_its_data_starts_unsealed(
    losable_integrity: GrantStoreIntegrity,
) -> None:
    assert await losable_integrity.intact() is False
    await losable_integrity.seal()
    assert await losable_integrity.intact() is True


# Valkey: the marker, and the guarded client the service uses.


class NoSessions:
    """No user has sessions here: these tests revoke by session id only."""

    async def session_ids_of(self, user_id: int) -> list[str]:
        return []


@pytest.mark.backends
async def test_a_guarded_client_refuses_until_the_store_is_sealed(
    valkey_backend: ValkeyBackend,
) -> None:
    prefix = valkey_backend.fresh_prefix()
    guarded = open_valkey(valkey_backend.url, on_connect=epoch_guard(prefix))
    try:
        store = ValkeyGrantStore(guarded, NoSessions(), prefix)
        with pytest.raises(StorageUnavailable):
            await store.is_denied("s1", BASE)
        with pytest.raises(StorageUnavailable):
            await store.issue(grant(), BASE)
        await ValkeyEpoch(valkey_backend.client, prefix).seal()
        await store.issue(grant(), BASE)
        assert await store.is_denied("s1", BASE) is False
    finally:
        await guarded.aclose()


@pytest.mark.backends
async def test_sealing_keeps_the_marker_another_process_wrote(
    valkey_backend: ValkeyBackend,
) -> None:
    prefix = valkey_backend.fresh_prefix()
    await ValkeyEpoch(valkey_backend.client, prefix).seal()
    first = await valkey_backend.client.get(epoch_key(prefix))
    await ValkeyEpoch(valkey_backend.another_client(), prefix).seal()
    assert await valkey_backend.client.get(epoch_key(prefix)) == first


@pytest.mark.backends
async def test_a_flush_under_open_connections_is_refused_once_intact_has_looked(
    valkey_backend: ValkeyBackend,
) -> None:
    """A flush keeps the connections (no reconnect, no guard): ``intact`` finds the
    marker gone and drops the guarded connections, which then refuse."""
    prefix = valkey_backend.fresh_prefix()
    epoch_client = valkey_backend.another_client()
    guarded = open_valkey(valkey_backend.url, on_connect=epoch_guard(prefix))
    try:
        epoch = ValkeyEpoch(epoch_client, prefix, guarded=guarded)
        await epoch.seal()
        store = ValkeyGrantStore(guarded, NoSessions(), prefix)
        await store.revoke_session("s1", at(1) + ACCESS)
        assert await store.is_denied("s1", at(1)) is True
        keys = [key async for key in valkey_backend.client.scan_iter(match=f"{prefix}*")]
        await valkey_backend.client.delete(*keys)
        assert await epoch.intact() is False
        with pytest.raises(StorageUnavailable):
            await store.is_denied("s1", at(1))
    finally:
        await guarded.aclose()
