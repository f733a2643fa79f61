"""Ending every session while a sign-in is under way, and ending a session whose grant is
already gone: no session refreshes behind a row that says revoked, and no access token of an
ended session is still accepted (ASVS 5.0 V7.4.1), on every deployment.

A sign-in writes its session row, then its grant. Sign out everywhere drops the grants it
finds, then ends the rows: a sign-in between the two had its row ended and stored its grant
after. That session refreshed for its whole lifetime, listed nowhere, its logout a no-op.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import httpx
import pytest

from domain.entities import RefreshGrant
from infrastructure.grants.memory.grant_store import MemoryGrantStore
from infrastructure.grants.sql.grant_store import SqlGrantStore
from infrastructure.grants.valkey.grant_store import ValkeyGrantStore
from tests.http.helpers import (
    PASSWORD,
    bearer,
    cookie_header,
    no_refresh_cookie,
    refresh_with,
    sign_in,
    sign_up,
    the_refresh_cookie,
)

DAY = 86_400


@asynccontextmanager
async def a_sign_in_held_before_its_grant(
    client: httpx.AsyncClient, monkeypatch: pytest.MonkeyPatch
) -> AsyncIterator[asyncio.Task[Any]]:
    """A sign-in from another browser, held once its row is written and before its grant is
    stored, for the body of the ``with``; then let go."""
    held, go = asyncio.Event(), asyncio.Event()
    for store in (SqlGrantStore, ValkeyGrantStore, MemoryGrantStore):
        original = store.issue

        async def issue(self: Any, grant: RefreshGrant, now: Any, _original: Any = original) -> Any:
            if not go.is_set():
                held.set()
                await go.wait()
            return await _original(self, grant, now)

        monkeypatch.setattr(store, "issue", issue)
    body = {"email": "user@site.com", "password": PASSWORD}
    headers = {"User-Agent": "Intruder/1.0", "Cookie": ""}
    signing_in = asyncio.create_task(client.post("/auth/login", json=body, headers=headers))
    await asyncio.wait_for(held.wait(), 5)
    try:
        yield signing_in
    finally:
        go.set()
        await signing_in


@pytest.mark.every_deployment
async def test_a_sign_in_under_way_when_every_session_ends_is_refused_and_never_refreshes(
    concurrent_client: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    async with concurrent_client() as client:
        owner = await sign_up(client)
        async with a_sign_in_held_before_its_grant(client, monkeypatch) as signing_in:
            everywhere = await client.post(
                "/auth/revoke", json={"keep_current": True}, headers=bearer(owner.access_token)
            )
            assert everywhere.status_code == 204, everywhere.text
        signed_in = signing_in.result()

        assert signed_in.status_code == 401, signed_in.text
        listed = await client.get("/auth/sessions", headers=bearer(owner.access_token))
        assert [s["current"] for s in listed.json()["sessions"]] == [True]
        assert no_refresh_cookie(signed_in)


@pytest.mark.every_deployment
async def test_sign_out_everywhere_refuses_the_last_access_token_of_a_session_past_its_lifetime(
    client: httpx.AsyncClient, clock: Any
) -> None:
    """A session refreshed a minute before its absolute lifetime ends holds an access token
    for 14 more minutes; its grant is dropped at the next refresh. Signing out everywhere
    then still refuses that token."""
    old = await sign_up(client)
    clock.advance(DAY)
    owner = await sign_in(client)
    tokens = {"old": old.refresh_token, "owner": owner.refresh_token}
    for _ in range(5):  # both kept alive to day 26 of the old one
        clock.advance(5 * DAY)
        for name, token in tokens.items():
            refreshed = await refresh_with(client, token)
            assert refreshed.status_code == 200, refreshed.text
            tokens[name] = the_refresh_cookie(refreshed).value
    clock.advance(4 * DAY - 60)
    last = await refresh_with(client, tokens["old"])
    assert last.status_code == 200, last.text
    old_access = last.json()["access_token"]
    clock.advance(120)  # past the old session's lifetime: its grant goes at the next refresh
    assert (await refresh_with(client, the_refresh_cookie(last).value)).status_code == 401
    assert (await client.get("/auth/me", headers=bearer(old_access))).status_code == 200
    current = await refresh_with(client, tokens["owner"])
    assert current.status_code == 200, current.text

    everywhere = await client.post(
        "/auth/revoke",
        json={"keep_current": True},
        headers=bearer(current.json()["access_token"]),
    )

    assert everywhere.status_code == 204, everywhere.text
    assert (await client.get("/auth/me", headers=bearer(old_access))).status_code == 401


async def test_a_logout_with_the_cookie_of_a_session_ended_meanwhile_leaves_nothing(
    client: httpx.AsyncClient,
) -> None:
    """The other end of the same guard: a cookie whose session has ended logs out with 204
    and refreshes nothing."""
    device = await sign_up(client)
    await client.post("/auth/revoke", json={}, headers=bearer(device.access_token))

    out = await client.post("/auth/logout", headers=cookie_header(device.refresh_token))

    assert out.status_code == 204
    assert (await refresh_with(client, device.refresh_token)).status_code == 401
