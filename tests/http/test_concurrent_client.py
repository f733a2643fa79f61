"""``concurrent_client`` serves the app so that requests sent together are in it together:
the race tests rely on it (AsyncTestClient hands the app one request at a time)."""

from __future__ import annotations

import asyncio

import pytest
from litestar import Litestar, get

from tests.http.conftest import serving

TOGETHER = 5
ALONE = -1
PATIENCE = 5  # seconds a request waits for the others before it reports it came alone


@pytest.mark.every_deployment
async def test_gathered_requests_are_inside_the_app_at_the_same_time() -> None:
    everyone_in = asyncio.Barrier(TOGETHER)

    @get("/wait")
    async def wait_for_the_others() -> int:
        try:
            async with asyncio.timeout(PATIENCE):
                return await everyone_in.wait()
        except TimeoutError:
            return ALONE

    async with serving(Litestar([wait_for_the_others])) as client:
        answers = await asyncio.gather(*(client.get("/wait") for _ in range(TOGETHER)))

    assert sorted(answer.json() for answer in answers) == list(range(TOGETHER))
