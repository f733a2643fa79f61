"""OneTimeStore and RateLimiter contracts: every adapter behaves like the memory reference."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from domain.ports import OneTimeStore, RateLimit, RateLimiter
from infrastructure.grants.valkey import ValkeyOneTimeStore, ValkeyRateLimiter, open_valkey
from tests.backends.valkey import assert_refused_quickly, dead_valkey_url

BASE = datetime(2026, 1, 1, tzinfo=UTC)
WINDOW = timedelta(seconds=10)


def at(seconds: float) -> datetime:
    return BASE + timedelta(seconds=seconds)


async def test_take_returns_the_value_once(one_time_store: OneTimeStore) -> None:
    await one_time_store.put("state", b"verifier", at(600))

    assert await one_time_store.take("state", at(1)) == b"verifier"
    assert await one_time_store.take("state", at(2)) is None


async def test_take_of_an_expired_value_is_none(one_time_store: OneTimeStore) -> None:
    await one_time_store.put("state", b"verifier", at(600))

    assert await one_time_store.take("state", at(600)) is None
    assert await one_time_store.take("state", at(1)) is None  # expired ones are gone too


async def test_take_of_a_missing_key_is_none(one_time_store: OneTimeStore) -> None:
    assert await one_time_store.take("missing", BASE) is None


async def test_values_are_kept_byte_for_byte(one_time_store: OneTimeStore) -> None:
    value = bytes(range(256)) + b":0:"
    await one_time_store.put("k", value, at(600))
    assert await one_time_store.take("k", BASE) == value


async def test_put_replaces_the_value(one_time_store: OneTimeStore) -> None:
    await one_time_store.put("k", b"old", at(600))
    await one_time_store.put("k", b"new", at(600))
    assert await one_time_store.take("k", BASE) == b"new"


async def test_concurrent_takes_hand_the_value_to_exactly_one(
    one_time_store: OneTimeStore,
) -> None:
    await one_time_store.put("state", b"verifier", at(600))

    taken = await asyncio.gather(*(one_time_store.take("state", at(1)) for _ in range(20)))

    assert sorted(taken, key=bool) == [None] * 19 + [b"verifier"]


async def test_rate_limit_holds(rate_limiter: RateLimiter) -> None:
    results = [await rate_limiter.hit("login:a", 3, WINDOW, at(i)) for i in range(4)]

    assert results[:3] == [None, None, None]
    assert results[3] == 7  # the first hit (t=0) leaves the window at t=10


async def test_window_slides_and_over_limit_attempts_are_not_counted(
    rate_limiter: RateLimiter,
) -> None:
    for i in range(3):
        assert await rate_limiter.hit("k", 3, WINDOW, at(i)) is None
    assert await rate_limiter.hit("k", 3, WINDOW, at(5)) == 5

    # t=0 has left the window; had t=5 been counted, this would still be over the limit
    assert await rate_limiter.hit("k", 3, WINDOW, at(10)) is None
    assert await rate_limiter.hit("k", 3, WINDOW, at(10.5)) == 1


async def test_retry_after_is_a_positive_whole_number_rounded_up(
    rate_limiter: RateLimiter,
) -> None:
    assert await rate_limiter.hit("k", 1, WINDOW, BASE) is None

    assert await rate_limiter.hit("k", 1, WINDOW, at(5.5)) == 5
    assert await rate_limiter.hit("k", 1, WINDOW, at(9.9999)) == 1


async def test_keys_are_counted_separately(rate_limiter: RateLimiter) -> None:
    assert await rate_limiter.hit("a", 1, WINDOW, BASE) is None
    assert await rate_limiter.hit("b", 1, WINDOW, BASE) is None
    assert await rate_limiter.hit("a", 1, WINDOW, BASE) == 10


async def test_reset_forgets_the_attempts_of_that_key_only(rate_limiter: RateLimiter) -> None:
    for key in ("a", "b"):
        assert await rate_limiter.hit(key, 1, WINDOW, BASE) is None

    await rate_limiter.reset("a")
    await rate_limiter.reset("never-hit")

    assert await rate_limiter.hit("a", 1, WINDOW, at(1)) is None
    assert await rate_limiter.hit("b", 1, WINDOW, at(1)) == 9


async def test_hit_all_counts_every_hit_in_order_and_stops_at_the_first_refusal(
    rate_limiter: RateLimiter,
) -> None:
    hits = [
        RateLimit(key="ip", limit=3, window=WINDOW),
        RateLimit(key="account", limit=1, window=WINDOW),
        RateLimit(key="day", limit=5, window=WINDOW),
    ]
    assert await rate_limiter.hit_all(hits, BASE) is None

    assert await rate_limiter.hit_all(hits, at(2)) == ("account", 8)

    # The hit before the refusal stayed counted, the ones from the refusal on did not.
    assert await rate_limiter.hit("ip", 2, WINDOW, at(3)) == 7
    assert await rate_limiter.hit("day", 3, WINDOW, at(3)) is None
    assert await rate_limiter.hit("day", 3, WINDOW, at(3)) is None
    assert await rate_limiter.hit("day", 3, WINDOW, at(3)) == 7


async def test_concurrent_hit_alls_never_exceed_any_limit(rate_limiter: RateLimiter) -> None:
    hits = [RateLimit(key="ip", limit=8, window=WINDOW), RateLimit(key="a", limit=5, window=WINDOW)]
    results = await asyncio.gather(*(rate_limiter.hit_all(hits, BASE) for _ in range(20)))

    assert results.count(None) == 5
    assert set(results) == {None, ("ip", 10), ("a", 10)}
    assert await rate_limiter.hit("a", 99, WINDOW, BASE) is None  # 5 counted, not 6
    assert await rate_limiter.hit("ip", 9, WINDOW, BASE) is None  # 8 counted, room for a 9th


async def test_reset_all_forgets_the_attempts_of_those_keys_only(
    rate_limiter: RateLimiter,
) -> None:
    for key in ("a", "b", "c"):
        assert await rate_limiter.hit(key, 1, WINDOW, BASE) is None

    await rate_limiter.reset_all(["a", "c", "never-hit"])

    assert await rate_limiter.hit("a", 1, WINDOW, at(1)) is None
    assert await rate_limiter.hit("b", 1, WINDOW, at(1)) == 9
    assert await rate_limiter.hit("c", 1, WINDOW, at(1)) is None


async def test_hits_at_the_same_instant_all_count(rate_limiter: RateLimiter) -> None:
    results = [await rate_limiter.hit("k", 5, WINDOW, BASE) for _ in range(6)]
    assert results == [None] * 5 + [10]


async def test_two_limiters_on_one_backend_share_the_count(
    rate_limiters: Callable[[], RateLimiter],
) -> None:
    first, second = rate_limiters(), rate_limiters()

    assert await first.hit("k", 2, WINDOW, at(0)) is None
    assert await second.hit("k", 2, WINDOW, at(1)) is None
    assert await first.hit("k", 2, WINDOW, at(2)) == 8
    assert await second.hit("k", 2, WINDOW, at(2)) == 8


async def test_concurrent_hits_never_exceed_the_limit(rate_limiter: RateLimiter) -> None:
    results = await asyncio.gather(*(rate_limiter.hit("k", 5, WINDOW, BASE) for _ in range(30)))
    assert results.count(None) == 5


async def test_valkey_keyed_stores_on_a_dead_server_raise_storage_unavailable_quickly() -> None:
    client = open_valkey(dead_valkey_url())
    once, limiter = ValkeyOneTimeStore(client), ValkeyRateLimiter(client)
    calls = [
        once.put("k", b"v", at(60)),
        once.take("k", BASE),
        limiter.hit("k", 1, WINDOW, BASE),
    ]
    await assert_refused_quickly(client, calls)


async def test_reset_prefix_forgets_every_key_with_that_prefix_only(
    rate_limiter: RateLimiter,
) -> None:
    for key in (
        "login:account:0:abc:1.2.3.4",
        "login:account:0:abc:5.6.7.8",
        "login:account:0:abd:1",
    ):
        assert await rate_limiter.hit(key, 1, WINDOW, BASE) is None

    await rate_limiter.reset_prefix("login:account:0:abc:")

    assert await rate_limiter.hit("login:account:0:abc:1.2.3.4", 1, WINDOW, at(1)) is None
    assert await rate_limiter.hit("login:account:0:abc:5.6.7.8", 1, WINDOW, at(1)) is None
    assert await rate_limiter.hit("login:account:0:abd:1", 1, WINDOW, at(1)) == 9


async def test_reset_prefix_takes_glob_and_like_characters_literally(
    rate_limiter: RateLimiter,
) -> None:
    for key in ("a*b:1", "a_b%:1", "axb:1"):
        assert await rate_limiter.hit(key, 1, WINDOW, BASE) is None

    await rate_limiter.reset_prefix("a*")
    await rate_limiter.reset_prefix("a_b%")

    assert await rate_limiter.hit("a*b:1", 1, WINDOW, at(1)) is None
    assert await rate_limiter.hit("a_b%:1", 1, WINDOW, at(1)) is None
    assert await rate_limiter.hit("axb:1", 1, WINDOW, at(1)) == 9
