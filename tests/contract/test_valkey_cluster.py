"""The keyed stores on a real three-primary Valkey Cluster: their keys spread over every
primary (so the contract suite's ``valkey-cluster`` runs cannot pass on one node by
accident), and an unreachable cluster is a quick StorageUnavailable."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from valkey.asyncio import ValkeyCluster

from infrastructure.grants.valkey import (
    ValkeyClient,
    ValkeyOneTimeStore,
    ValkeyRateLimiter,
    open_valkey,
)
from infrastructure.grants.valkey.epoch import ValkeyEpoch
from tests.backends.valkey import assert_refused_quickly
from tests.backends.valkey_cluster import dead_valkey_cluster_url
from tests.contract.conftest import ValkeyBackend

pytestmark = pytest.mark.backends

BASE = datetime(2026, 1, 1, tzinfo=UTC)
WINDOW = timedelta(seconds=10)
KEYS = 30  # per store: a primary holding none of 60 keys has odds of 3·(2/3)⁶⁰ ≈ 10⁻¹⁰


async def keys_per_primary(client: ValkeyClient, prefix: str) -> dict[str, int]:
    assert isinstance(client, ValkeyCluster)
    counts = {}
    for node in client.get_primaries():
        found = [k async for k in client.scan_iter(match=f"{prefix}*", target_nodes=node)]
        counts[node.name] = len(found)
    return counts


async def test_one_time_values_and_rate_limits_spread_over_every_primary(
    valkey_cluster_backend: ValkeyBackend[ValkeyClient],
) -> None:
    client, prefix = valkey_cluster_backend.client, valkey_cluster_backend.fresh_prefix()
    once, limiter = ValkeyOneTimeStore(client, prefix), ValkeyRateLimiter(client, prefix)
    for i in range(KEYS):
        await once.put(f"state-{i}", b"verifier", BASE + WINDOW)
        assert await limiter.hit(f"login:{i}", 1, WINDOW, BASE) is None

    counts = await keys_per_primary(client, prefix)

    assert len(counts) == 3
    assert sum(counts.values()) == 2 * KEYS
    assert all(counts.values()), counts
    assert await once.take("state-0", BASE) == b"verifier"
    assert await limiter.hit("login:0", 1, WINDOW, BASE) == 10


async def test_reset_prefix_on_a_cluster_forgets_the_keys_on_every_primary(
    valkey_cluster_backend: ValkeyBackend[ValkeyClient],
) -> None:
    client, prefix = valkey_cluster_backend.client, valkey_cluster_backend.fresh_prefix()
    limiter = ValkeyRateLimiter(client, prefix)
    for i in range(KEYS):
        assert await limiter.hit(f"login:account:{i}", 1, WINDOW, BASE) is None
        assert await limiter.hit(f"other:{i}", 1, WINDOW, BASE) is None
    assert all((await keys_per_primary(client, f"{prefix}rate:login:")).values())

    await limiter.reset_prefix("login:account:")

    assert set((await keys_per_primary(client, f"{prefix}rate:login:")).values()) == {0}
    assert sum((await keys_per_primary(client, f"{prefix}rate:other:")).values()) == KEYS


async def test_the_rate_limit_script_reloads_itself_after_every_primary_flushed_its_scripts(
    valkey_cluster_backend: ValkeyBackend[ValkeyClient],
) -> None:
    """It runs by SHA on the node of its key; a node that lost it answers NOSCRIPT once."""
    client, prefix = valkey_cluster_backend.client, valkey_cluster_backend.fresh_prefix()
    limiter = ValkeyRateLimiter(client, prefix)
    assert await limiter.hit("k", 1, WINDOW, BASE) is None

    await client.script_flush()

    for i in range(KEYS):  # keys on every primary
        assert await limiter.hit(f"k{i}", 1, WINDOW, BASE) is None
    assert await limiter.hit("k", 1, WINDOW, BASE) == 10


async def test_keyed_stores_on_an_unreachable_cluster_raise_storage_unavailable_quickly() -> None:
    client = open_valkey(dead_valkey_cluster_url())
    once, limiter = ValkeyOneTimeStore(client), ValkeyRateLimiter(client)
    calls = [
        once.put("k", b"v", BASE + WINDOW),
        once.take("k", BASE),
        limiter.hit("k", 1, WINDOW, BASE),
        limiter.reset("k"),
        limiter.reset_prefix("k"),
    ]
    await assert_refused_quickly(client, calls)


async def test_the_lost_store_marker_stands_on_every_primary_and_any_ones_loss_is_seen(
    valkey_cluster_backend: ValkeyBackend[ValkeyClient],
) -> None:
    """Each primary can lose its data alone (a restart without persistence): the grant
    store's epoch marker stands on all three, and one gone reads as a lost store."""
    client, prefix = valkey_cluster_backend.client, valkey_cluster_backend.fresh_prefix()
    assert isinstance(client, ValkeyCluster)
    epoch = ValkeyEpoch(client, prefix)
    assert await epoch.intact() is False  # never sealed
    await epoch.seal()
    assert await epoch.intact() is True
    assert set((await keys_per_primary(client, f"{prefix}epoch")).values()) == {1}

    one_node = client.get_primaries()[1]
    [marker] = [k async for k in client.scan_iter(match=f"{prefix}epoch*", target_nodes=one_node)]
    await client.delete(marker)  # that primary restarted empty, as far as we are concerned

    assert await epoch.intact() is False
    await epoch.seal()
    assert await epoch.intact() is True
