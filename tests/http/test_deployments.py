"""The session's life, end to end, in every deployment: the one place the HTTP tests run
over each backend pair. Each rule is proven in the unit and contract suites (the contract
suite over every adapter); these say that the app wires each deployment's adapters."""

from __future__ import annotations

import pytest

from tests.http.conftest import Client
from tests.http.helpers import (
    assert_access_rejected,
    assert_access_works,
    assert_problem,
    bearer,
    refresh_with,
    sign_in,
    sign_up,
    the_refresh_cookie,
)

pytestmark = pytest.mark.every_deployment


async def test_sign_up_refresh_reuse_and_sign_out_everywhere(client: Client) -> None:
    laptop = await sign_up(client, "ada@example.test")
    phone = await sign_in(client, "ada@example.test")

    rotated = await refresh_with(client, laptop.refresh_token)
    assert rotated.status_code == 200, rotated.text
    successor = the_refresh_cookie(rotated).value
    assert successor != laptop.refresh_token
    me = await client.get("/auth/me", headers=bearer(rotated.json()["access_token"]))
    assert me.json()["user"]["email"] == "ada@example.test"

    listed = await client.get("/auth/sessions", headers=phone.headers)
    assert len(listed.json()["sessions"]) == 2

    revoked = await client.post("/auth/revoke", headers=phone.headers)
    assert revoked.status_code == 204, revoked.text
    await assert_access_rejected(client, phone.access_token)
    assert_problem(await refresh_with(client, successor), 401, "invalid_refresh_token")


async def test_a_replay_past_the_grace_is_reuse_and_ends_the_session(client: Client, clock) -> None:
    device = await sign_up(client, "bob@example.test")
    rotated = await refresh_with(client, device.refresh_token)
    assert rotated.status_code == 200, rotated.text
    clock.advance(60)

    assert_problem(await refresh_with(client, device.refresh_token), 401, "refresh_token_reused")
    await assert_access_rejected(client, rotated.json()["access_token"])


async def test_logout_ends_the_session_at_once(client: Client) -> None:
    device = await sign_up(client, "eve@example.test")
    await assert_access_works(client, device.access_token)

    out = await client.post("/auth/logout", headers={**device.headers, **device.cookie})
    assert out.status_code == 204, out.text
    await assert_access_rejected(client, device.access_token)
    assert_problem(await refresh_with(client, device.refresh_token), 401, "invalid_refresh_token")
