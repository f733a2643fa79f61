"""A known address's request is answered before anything it causes is written: its entry in
the account's activity (like the reset mail and the sign-in grant) is written behind the
answer, so the answer takes an unknown address's time (OWASP Forgot Password and
Authentication Cheat Sheets: no account enumeration by timing). The proof: a write of the
activity that stalls, and the answers come all the same. (Written before the answer, the
known address's entry cost its request a transaction: 1.4-1.6 x an unknown one's time.)"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable, Iterator, Sequence
from typing import Any

import pytest

from domain.ports import NewActivity
from infrastructure.persistence.activity import SqlSecurityActivity
from tests.http.helpers import PASSWORD, register

ANSWERED_WITHIN = 3.0  # seconds; a request that waits on the stalled write takes STALL
STALL = 10.0
KNOWN = "known@site.com"


@pytest.fixture
def stalled() -> Iterator[asyncio.Event]:
    """Every write of the activity waits until released (or ``STALL`` seconds)."""
    release = asyncio.Event()
    original = SqlSecurityActivity.add

    async def add(self: SqlSecurityActivity, entries: Sequence[NewActivity]) -> None:
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(release.wait(), STALL)
        await original(self, entries)

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(SqlSecurityActivity, "add", add)
        yield release
        release.set()


async def answer(
    concurrent_client: Callable[..., Any], stalled: asyncio.Event, path: str, body: dict[str, str]
) -> int:
    """The status of ``path``'s answer, from an app served in this task (so that waiting for
    it can time out), where the address ``KNOWN`` has an account."""
    async with concurrent_client(email_signin=True) as client:
        try:
            await register(client, KNOWN)
            response = await asyncio.wait_for(client.post(path, json=body), ANSWERED_WITHIN)
            return int(response.status_code)
        finally:
            stalled.set()  # before the app stops: its last flush writes what waits


@pytest.mark.parametrize("email", [KNOWN, "unknown@site.com"])
async def test_a_reset_request_is_answered_before_its_activity_is_written(
    concurrent_client: Any, stalled: asyncio.Event, email: str
) -> None:
    path = "/auth/password/forgot"
    assert await answer(concurrent_client, stalled, path, {"email": email}) == 202


@pytest.mark.parametrize("email", [KNOWN, "unknown@site.com"])
async def test_a_sign_in_code_request_is_answered_before_its_activity_is_written(
    concurrent_client: Any, stalled: asyncio.Event, email: str
) -> None:
    path = "/auth/email/signin/request"
    assert await answer(concurrent_client, stalled, path, {"email": email}) == 202


@pytest.mark.parametrize("email", [KNOWN, "unknown@site.com"])
async def test_a_failed_sign_in_is_answered_before_its_activity_is_written(
    concurrent_client: Any, stalled: asyncio.Event, email: str
) -> None:
    body = {"email": email, "password": PASSWORD + "-wrong"}
    assert await answer(concurrent_client, stalled, "/auth/login", body) == 401
