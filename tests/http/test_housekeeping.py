"""Housekeeping in the running app: a round deletes the session rows past their lifetime,
and what ``GET /auth/sessions`` shows of the live ones does not change."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import TypeVar

import pytest

from application.housekeeping import SLACK, WEBHOOKS_KEPT
from infrastructure.config import Settings
from interfaces.bootstrap.backends import open_database
from tests.fakes.clock import FakeClock
from tests.http.admin_helpers import an_admin
from tests.http.conftest import Client
from tests.http.helpers import assert_access_works, jwt_parts, refresh_with, sign_in, sign_up
from tests.http.test_sessions import LAPTOP, PHONE, list_sessions

T = TypeVar("T")


async def in_app(client: Client, function: Callable[[], Awaitable[T]]) -> T:
    """``function`` run on the app's own event loop: the test client serves the app from a
    thread of its own, where its connections live."""
    return await asyncio.to_thread(client.blocking_portal.call, function)


async def session_rows(settings: Settings) -> set[str]:
    database = open_database(settings)
    try:
        async with database.transaction(write=False) as tx:
            rows = await tx.fetchall("SELECT id FROM sessions")
    finally:
        await database.close()
    return {str(row["id"]) for row in rows}


@pytest.mark.every_deployment
async def test_a_round_deletes_a_session_past_its_lifetime_and_no_live_one(
    client: Client, clock: FakeClock, settings: Settings
) -> None:
    await sign_up(client)  # this session's lifetime ends, and a day more passes
    clock.advance(settings.session_max_age + SLACK.total_seconds() + 3600)
    phone = await sign_in(client, headers=PHONE)
    laptop = await sign_in(client, headers=LAPTOP)
    live = {jwt_parts(device.access_token)[1]["sid"] for device in (phone, laptop)}
    listed = await list_sessions(client, phone)
    assert len(await session_rows(settings)) == 3

    purge = client.app.state.service.cases.purge_expired
    purged = await in_app(client, purge.execute)

    assert purged.sessions == 1
    # SQL and process memory keep the expired token family until told; Valkey expires it.
    assert purged.grants == (1 if settings.grants_url in ("database", "memory://") else 0)
    assert purged.mail_tokens == 1  # the sign-up's address verification, long expired
    assert await session_rows(settings) == live
    assert await list_sessions(client, phone) == listed
    await assert_access_works(client, laptop.access_token)
    refreshed = await refresh_with(client, phone.refresh_token)
    assert refreshed.status_code == 200, refreshed.text
    assert (await in_app(client, purge.execute)).sessions == 0


async def on_deliveries(settings: Settings, sql: str, *args: object) -> int:
    """``sql`` run on the webhook deliveries: how many rows it changed."""
    database = open_database(settings)
    try:
        async with database.transaction() as tx:
            return await tx.execute(sql, *args)
    finally:
        await database.close()


async def test_a_round_deletes_webhook_deliveries_settled_longer_ago_than_kept(
    client: Client, clock: FakeClock, settings: Settings
) -> None:
    """A delivery names its user (GDPR Art. 5(1)(e)): kept 30 days after it settled."""
    admin = await an_admin(client, settings)
    hook = {"url": "https://hooks.example.test/in", "events": ["user.created"]}
    assert (await client.post("/admin/webhooks", json=hook, headers=admin.headers)).is_success
    await sign_up(client, "member@site.com")
    # Delivered now (the sender is not what is tested here).
    delivered = "UPDATE webhook_deliveries SET delivered_at = $1"
    assert await on_deliveries(settings, delivered, clock.now()) == 1
    purge = client.app.state.service.cases.purge_expired

    clock.advance(WEBHOOKS_KEPT.total_seconds() - 60)
    assert (await in_app(client, purge.execute)).webhook_deliveries == 0
    clock.advance(120)
    assert (await in_app(client, purge.execute)).webhook_deliveries == 1
    assert await on_deliveries(settings, "DELETE FROM webhook_deliveries") == 0  # none left


async def test_every_app_process_runs_housekeeping_in_the_background(client: Client) -> None:
    async def task_names() -> set[str]:
        return {task.get_name() for task in asyncio.all_tasks()}

    assert "authgate-housekeeping" in await in_app(client, task_names)
