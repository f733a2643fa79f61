"""``AUTH_GRANTS_URL=valkey+sentinel://host:port,host:port/service``: what it means, what the
settings refuse, and how a CLI failure names it. The deployment itself is tested in
tests/contract (the grant-store suite) and tests/http/test_valkey_failover.py."""

from __future__ import annotations

import pytest
from valkey.asyncio.sentinel import MasterNotFoundError

from domain.errors import StorageUnavailable
from infrastructure.config import SettingsError, load_settings
from infrastructure.grants.valkey.urls import SentinelUrl, parse_sentinel_url, parse_valkey_url
from interfaces.cli.errors import unavailable


def test_a_sentinel_url_names_the_sentinels_and_the_service() -> None:
    assert parse_sentinel_url("valkey+sentinel://s1:26380,10.0.0.2/mymaster") == SentinelUrl(
        sentinels=(("s1", 26380), ("10.0.0.2", 26379)), service="mymaster"
    )


def test_credentials_and_a_database_number_are_for_the_primary() -> None:
    parsed = parse_sentinel_url("redis+sentinel://app:p%40ss@[::1]:5000/cache/3")
    assert parsed == SentinelUrl(
        sentinels=(("::1", 5000),), service="cache", db=3, username="app", password="p@ss"
    )


def test_the_prefix_comes_off_a_sentinel_url_as_off_any_other() -> None:
    url = "valkey+sentinel://s1:1,s2:2/mymaster?prefix=app1:"
    assert parse_valkey_url(url) == ("valkey+sentinel://s1:1,s2:2/mymaster", "app1:")


def test_other_schemes_are_not_sentinel_urls() -> None:
    assert parse_sentinel_url("valkey://cache:6379/0") is None
    assert parse_sentinel_url("rediss://cache:6379") is None


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("valkey+sentinel://s1:26379", "/<service>"),
        ("valkey+sentinel://s1:26379/m/zero", "/<service>"),
        ("valkey+sentinel://s1:26379,/m", "sentinel node '' is not host"),
        ("valkey+sentinel://s1:70000/m", "sentinel node 's1:70000' is not host"),
        ("valkey+sentinel://s1/m?db=1", "no options"),
    ],
)
def test_a_malformed_sentinel_url_is_refused(url: str, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        parse_sentinel_url(url)


@pytest.mark.parametrize(
    "url",
    [
        "valkey+sentinel://s1:26379,s2:26379,s3:26379/mymaster",
        "redis+sentinel://s1/mymaster/2?prefix=app1:",
        "valkey+sentinel://user:secret@[::1]:26379/mymaster/",
    ],
)
def test_the_settings_accept_a_sentinel_url(url: str) -> None:
    assert load_settings({"AUTH_GRANTS_URL": url}, dotenv=None).grants_url == url


@pytest.mark.parametrize(
    "url",
    [
        "valkey+sentinel://s1:26379",  # no service
        "valkey+sentinel://s1:26379,/mymaster",  # an empty node
        "valkey+sentinel://s1:port/mymaster",
        "valkey+sentinel://s1/mymaster?db=2",  # an option the client would not see
        "valkeys+sentinel://s1/mymaster",  # TLS to the sentinels is not supported
    ],
)
def test_the_settings_refuse_a_malformed_sentinel_url_showing_the_form(url: str) -> None:
    with pytest.raises(SettingsError) as raised:
        load_settings({"AUTH_GRANTS_URL": url}, dotenv=None)
    assert "valkey+sentinel://host:port,host:port/service" in str(raised.value)


def test_a_cli_failure_names_the_service_and_its_sentinels() -> None:
    settings = load_settings(
        {"AUTH_GRANTS_URL": "valkey+sentinel://s1:1,s2:2/mymaster?prefix=a:"}, dotenv=None
    )
    error = StorageUnavailable(backend="grants")
    error.__cause__ = MasterNotFoundError("No master found for 'mymaster'")
    assert unavailable(settings, error) == (
        "database unavailable: the Valkey primary 'mymaster' of the sentinels at s1:1,s2:2"
        " does not answer (MasterNotFoundError: No master found for 'mymaster'):"
        " start it, or fix AUTH_GRANTS_URL"
    )
