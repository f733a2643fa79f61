"""The node lists of cluster and Sentinel URLs (``h1:p1,[::1]:p2,…``), IPv6 nodes anywhere.

``urllib.parse.urlsplit`` on Pythons with the fix for CVE-2025-0938 (Debian 12's 3.11.2, and
3.12.9, 3.13.2 and later) refuses a list with a ``[`` after another node, or an IPv6 node
without a port before another: "Invalid IPv6 URL". So a node list never reaches it, and
here on any Python: ``urlsplit`` seen by the parser fails on one."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any
from urllib.parse import urlsplit

import pytest
from valkey.exceptions import ValkeyClusterException

from domain.errors import StorageUnavailable
from infrastructure.config import SettingsError, load_settings
from infrastructure.grants.valkey import urls
from infrastructure.grants.valkey.urls import (
    cluster_nodes,
    cluster_url,
    parse_sentinel_url,
    parse_valkey_url,
)
from interfaces.cli.errors import unavailable


@pytest.fixture(autouse=True)
def single_hosts_only(monkeypatch: pytest.MonkeyPatch) -> None:
    def strict(url: str, *args: Any, **kwargs: Any) -> Any:
        parts = urlsplit(url, *args, **kwargs)
        if "," in parts.netloc:
            raise ValueError(f"a node list went to urlsplit: {url}")
        return parts

    monkeypatch.setattr(urls, "urlsplit", strict)


CLUSTERS = [
    ("valkey+cluster://[::1]:7000,a:7001,b:7002", [("::1", 7000), ("a", 7001), ("b", 7002)]),
    ("valkey+cluster://a:7000,[::1]:7001,b:7002", [("a", 7000), ("::1", 7001), ("b", 7002)]),
    ("valkey+cluster://a:7000,b:7001,[::1]:7002", [("a", 7000), ("b", 7001), ("::1", 7002)]),
    ("valkey+cluster://[::1],[fe80::2]:7001,c", [("::1", 6379), ("fe80::2", 7001), ("c", 6379)]),
    (
        "rediss+cluster://u:p%40ss@10.0.0.1,[2001:db8::7]:7000/?prefix=app1:",
        [("10.0.0.1", 6379), ("2001:db8::7", 7000)],
    ),
]


@pytest.mark.parametrize(("url", "nodes"), CLUSTERS)
def test_ipv6_cluster_nodes_parse_in_any_position_with_or_without_a_port(
    url: str, nodes: list[tuple[str, int]]
) -> None:
    assert cluster_url(url)
    assert cluster_nodes(url) == nodes
    assert load_settings({"AUTH_GRANTS_URL": url}, dotenv=None).grants_url == url


@pytest.mark.parametrize(("url", "nodes"), CLUSTERS)
def test_the_prefix_comes_off_and_the_node_list_stays_as_written(
    url: str, nodes: list[tuple[str, int]]
) -> None:
    stripped, _ = parse_valkey_url(url)
    assert stripped.split("?")[0] == url.split("?")[0]
    assert cluster_nodes(stripped) == nodes


def test_the_prefix_of_a_cluster_url_with_other_options_keeps_the_others() -> None:
    url = "valkey+cluster://a:7000,[::1]:7001?prefix=app1:&protocol=3"
    assert parse_valkey_url(url) == ("valkey+cluster://a:7000,[::1]:7001?protocol=3", "app1:")


@pytest.mark.parametrize(
    ("url", "sentinels"),
    [
        ("valkey+sentinel://[::1]:1,s2:2/m", (("::1", 1), ("s2", 2))),
        ("valkey+sentinel://s1:1,[::1]:2,s3/m", (("s1", 1), ("::1", 2), ("s3", 26379))),
        ("redis+sentinel://app:pw@s1,[fe80::1]/m/2", (("s1", 26379), ("fe80::1", 26379))),
        ("valkey+sentinel://[::1],[::2]:5/m", (("::1", 26379), ("::2", 5))),
    ],
)
def test_ipv6_sentinels_parse_in_any_position(
    url: str, sentinels: tuple[tuple[str, int], ...]
) -> None:
    parsed = parse_sentinel_url(url)
    assert parsed is not None
    assert parsed.sentinels == sentinels
    assert parsed.service == "m"
    assert load_settings({"AUTH_GRANTS_URL": url}, dotenv=None).grants_url == url


@pytest.mark.parametrize(
    "node",
    [
        "[::1",  # an unclosed bracket
        "::1]:7000",
        "::1:7000",  # an IPv6 address needs its brackets
        "[::1]7000",
        "[::1]:",
        "[::1]]:7000",
        "[]:7000",
        "[1.2.3.4]:7000",  # brackets are for IPv6
        "[::g]:7000",
        "[1:2:3:4:5:6:7:8:9]:7000",
        "[::1]:0",
        "[::1]:65536",
        "[::1%25eth0]:7000",  # no zone index
    ],
)
@pytest.mark.parametrize("position", ["first", "middle", "last"])
def test_a_bad_node_anywhere_is_named_saying_what_a_node_is(node: str, position: str) -> None:
    nodes = {"first": f"{node},b:7001", "middle": f"a:7000,{node},b:7001", "last": f"a:7000,{node}"}
    what = f"node {node!r} is not host[:port] (a port from 1 to 65535; an IPv6 address in brackets)"
    cluster = f"valkey+cluster://{nodes[position]}"
    with pytest.raises(ValueError, match=re.escape(f"cluster {what}")):
        cluster_nodes(cluster)
    with pytest.raises(SettingsError) as raised:
        load_settings({"AUTH_GRANTS_URL": cluster}, dotenv=None)
    assert raised.value.problems == [f"AUTH_GRANTS_URL: cluster {what}"]
    sentinel = f"valkey+sentinel://{nodes[position]}/mymaster"
    with pytest.raises(ValueError, match=re.escape(f"sentinel {what}")):
        parse_sentinel_url(sentinel)
    with pytest.raises(SettingsError) as raised:  # by the pattern or by the parser
        load_settings({"AUTH_GRANTS_URL": sentinel}, dotenv=None)
    assert len(raised.value.problems) == 1


def _unavailable(url: str, make: Callable[[str], Exception]) -> str:
    error = StorageUnavailable(backend="grants")
    error.__cause__ = make("down")
    return unavailable(load_settings({"AUTH_GRANTS_URL": url}, dotenv=None), error)


def test_a_cli_failure_names_ipv6_nodes_in_brackets_without_credentials() -> None:
    cluster = _unavailable(
        "valkey+cluster://u:secret@a:7000,[::1]:7001?prefix=x:", ValkeyClusterException
    )
    assert cluster.startswith("database unavailable: Valkey Cluster at a:7000,[::1]:7001 does")
    sentinel = _unavailable("valkey+sentinel://u:secret@s1,[::1]:5/m", ValkeyClusterException)
    assert "the Valkey primary 'm' of the sentinels at s1:26379,[::1]:5 does" in sentinel
    assert "secret" not in cluster + sentinel
