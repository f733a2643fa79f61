"""What ``open_valkey`` builds from each URL form, before it connects to anything."""

from __future__ import annotations

import pytest
from valkey.asyncio import Valkey, ValkeyCluster

from infrastructure.grants.valkey import open_valkey, parse_valkey_url


@pytest.mark.parametrize(
    "nodes",
    ["a:7000,b:7001,[::1]:7002,c", "[::1]:7002,a:7000,b:7001,c", "a:7000,[::1]:7002,b:7001,c"],
)
async def test_a_cluster_url_opens_a_cluster_client_starting_from_every_listed_node(
    nodes: str,
) -> None:
    url, prefix = parse_valkey_url(f"valkey+cluster://{nodes}?prefix=app1:")
    client = open_valkey(url)
    try:
        assert isinstance(client, ValkeyCluster)
        assert prefix == "app1:"
        assert sorted(client.nodes_manager.startup_nodes) == [
            "::1:7002",
            "a:7000",
            "b:7001",
            "c:6379",
        ]
    finally:
        await client.aclose()


async def test_a_cluster_url_passes_credentials_tls_and_fail_fast_timeouts_to_every_node() -> None:
    client = open_valkey("valkeys+cluster://user:p%40ss@a:7000,b:7001")
    try:
        assert isinstance(client, ValkeyCluster)
        for node in client.nodes_manager.startup_nodes.values():
            options = node.connection_kwargs
            assert (options["username"], options["password"]) == ("user", "p@ss")
            assert options["socket_connect_timeout"] == options["socket_timeout"] == 2
            assert node.connection_class.__name__ == "SSLConnection"
    finally:
        await client.aclose()


async def test_a_single_server_url_still_opens_a_single_server_client() -> None:
    client = open_valkey("valkey://cache:6379/2")
    try:
        assert isinstance(client, Valkey)
        assert client.connection_pool.connection_kwargs["db"] == 2
    finally:
        await client.aclose()
