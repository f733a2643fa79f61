"""Rotation under concurrency, reuse detection and session lifetimes (RFC 9700 §4.14.2)."""

from __future__ import annotations

import asyncio
from collections import Counter
from typing import Any

import httpx
import pytest
from litestar.testing import AsyncTestClient

from tests.fakes.clock import FakeClock
from tests.http.helpers import assert_problem, bearer, open_connections, register
from tests.http.scrape import grown, scrape

DAY = 86400
RACERS = 50


def cookie_of(response: Any) -> str:
    value: str = response.cookies["refresh_id"]
    return value


async def refresh_with(client: httpx.AsyncClient, token: str) -> Any:
    client.cookies.clear()
    return await client.post("/auth/refresh", headers={"Cookie": f"refresh_id={token}"})


async def signed_up(client: httpx.AsyncClient) -> tuple[str, str]:
    body = await register(client)
    token = client.cookies["refresh_id"]
    client.cookies.clear()
    return body["access_token"], token


@pytest.mark.every_deployment
async def test_fifty_concurrent_refreshes_within_grace_all_get_one_identical_cookie(
    concurrent_client: Any,
) -> None:
    async with concurrent_client(refresh_limit=1000) as client:
        access, token = await signed_up(client)
        await open_connections(client, access, RACERS)
        headers = {"Cookie": f"refresh_id={token}"}
        before = await scrape(client)
        responses = await asyncio.gather(
            *(client.post("/auth/refresh", headers=headers) for _ in range(RACERS))
        )
        after = await scrape(client)
        assert Counter(r.status_code for r in responses) == {200: 50}
        # One rotation, the others replays of its previous token: a rotation that read the
        # family and wrote it back in two steps would rotate more than once.
        assert grown(before, after, "authgate_refreshes_total", outcome="rotated") == 1
        assert grown(before, after, "authgate_refreshes_total", outcome="grace") == RACERS - 1
        successors = {cookie_of(r) for r in responses}
        assert len(successors) == 1
        assert successors != {token}
        (successor,) = successors
        again = await refresh_with(client, successor)
        assert again.status_code == 200


@pytest.mark.every_deployment
async def test_with_grace_zero_exactly_one_of_fifty_concurrent_refreshes_succeeds(
    concurrent_client: Any,
) -> None:
    async with concurrent_client(refresh_limit=1000, refresh_grace=0) as client:
        access, token = await signed_up(client)
        await open_connections(client, access, RACERS)
        headers = {"Cookie": f"refresh_id={token}"}
        responses = await asyncio.gather(
            *(client.post("/auth/refresh", headers=headers) for _ in range(RACERS))
        )
        statuses = Counter(r.status_code for r in responses)
        assert statuses[200] == 1
        assert statuses[401] == RACERS - 1
        assert not any(r.status_code >= 500 for r in responses)


async def test_replaying_the_previous_token_after_grace_revokes_the_whole_session(
    client: AsyncTestClient[Any], clock: FakeClock
) -> None:
    first_access, first = await signed_up(client)
    rotated = await refresh_with(client, first)
    assert rotated.status_code == 200
    newest, newest_access = cookie_of(rotated), rotated.json()["access_token"]
    clock.advance(11)

    replay = await refresh_with(client, first)

    assert_problem(replay, 401, "refresh_token_reused")
    assert_problem(await refresh_with(client, newest), 401, "invalid_refresh_token")
    for access in (first_access, newest_access):
        me = await client.get("/auth/me", headers=bearer(access))
        assert_problem(me, 401, "invalid_token")


async def test_a_token_two_generations_old_is_reuse_even_within_grace(
    client: AsyncTestClient[Any],
) -> None:
    _, first = await signed_up(client)
    second = cookie_of(await refresh_with(client, first))
    third = cookie_of(await refresh_with(client, second))
    assert_problem(await refresh_with(client, first), 401, "refresh_token_reused")
    assert_problem(await refresh_with(client, third), 401, "invalid_refresh_token")


async def test_within_grace_the_previous_token_gets_the_same_successor(
    client: AsyncTestClient[Any], clock: FakeClock
) -> None:
    _, first = await signed_up(client)
    successor = cookie_of(await refresh_with(client, first))
    clock.advance(9)
    replay = await refresh_with(client, first)
    assert replay.status_code == 200
    assert cookie_of(replay) == successor


async def test_a_session_idle_longer_than_the_refresh_ttl_ends(
    client: AsyncTestClient[Any], clock: FakeClock
) -> None:
    _, token = await signed_up(client)
    clock.advance(7 * DAY + 1)
    assert_problem(await refresh_with(client, token), 401, "invalid_refresh_token")


async def test_refreshing_keeps_a_session_alive_until_its_absolute_lifetime(
    client: AsyncTestClient[Any], clock: FakeClock
) -> None:
    _, token = await signed_up(client)
    for _ in range(4):  # day 6, 12, 18, 24: each refresh slides the idle timeout
        clock.advance(6 * DAY)
        response = await refresh_with(client, token)
        assert response.status_code == 200, response.text
        token = cookie_of(response)
    clock.advance(6 * DAY + 1)  # day 30 and a second: past the absolute limit
    assert_problem(await refresh_with(client, token), 401, "invalid_refresh_token")


async def test_the_cookie_max_age_never_outlives_the_absolute_lifetime(
    client: AsyncTestClient[Any], clock: FakeClock
) -> None:
    _, token = await signed_up(client)
    for days in (6, 6, 6, 6, 3):  # refreshed on days 6, 12, 18, 24 and 27
        clock.advance(days * DAY)
        response = await refresh_with(client, token)
        assert response.status_code == 200, response.text
        token = cookie_of(response)
    assert "Max-Age=259200" in response.headers["set-cookie"]  # 3 days left, not 7


async def test_refreshes_from_one_ip_are_rate_limited(make_client: Any) -> None:
    async with make_client(refresh_limit=3) as client:
        statuses = []
        for _ in range(4):
            response = await client.post("/auth/refresh", headers={"Cookie": "refresh_id=nope"})
            statuses.append(response.status_code)
        assert statuses == [401, 401, 401, 429]
        assert int(response.headers["retry-after"]) >= 1


async def test_a_forged_token_naming_a_live_session_is_refused_and_ends_nothing(
    make_client: Any,
) -> None:
    """Session ids are no secret (``GET /auth/sessions`` lists them); a token naming one
    must prove it was minted for it, or it could revoke a stranger's session as reuse."""
    async with make_client(refresh_limit=3) as client:
        access, token = await signed_up(client)
        session_id, _, body = token.partition(".")
        flipped = body[:-1] + ("A" if body[-1] != "A" else "B")

        forged = [await refresh_with(client, f"{session_id}.{flipped}") for _ in range(2)]

        for response in forged:
            assert_problem(response, 401, "invalid_refresh_token")
        assert (await client.get("/auth/me", headers=bearer(access))).status_code == 200
        assert (await refresh_with(client, token)).status_code == 200  # the third hit
        # Forged attempts counted like any other: the fourth refresh is over the limit.
        assert (await refresh_with(client, token)).status_code == 429
