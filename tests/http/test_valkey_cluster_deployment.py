"""The service on a three-primary Valkey Cluster (grants, denylist, limits, one-time values
spread over the primaries by session and key): the flows whose keys cross slots, end to end.
The contract suites run every store on the cluster; this is the app wired from the URL."""

from __future__ import annotations

from pathlib import Path

import pytest

from infrastructure.config import Settings
from tests.http.conftest import Client, deployment
from tests.http.helpers import (
    assert_access_rejected,
    assert_access_works,
    assert_problem,
    refresh_with,
    sign_in,
    sign_up,
)

pytestmark = pytest.mark.backends


@pytest.fixture
async def settings(request: pytest.FixtureRequest, tmp_path: Path) -> Settings:
    return await deployment("postgres+valkey-cluster", request, tmp_path)


async def test_the_app_on_a_cluster_is_ready_and_rotates_refresh_tokens(
    client: Client, settings: Settings
) -> None:
    assert settings.grants_url.startswith("valkey+cluster://")
    assert (await client.get("/health/ready")).status_code == 200
    device = await sign_up(client)

    rotated = await refresh_with(client, device.refresh_token)
    assert rotated.status_code == 200, rotated.text
    await assert_access_works(client, rotated.json()["access_token"])


async def test_reuse_on_a_cluster_revokes_the_session_and_denies_its_access_tokens(
    client: Client,
) -> None:
    device = await sign_up(client)
    first = await refresh_with(client, device.refresh_token)
    second = await refresh_with(client, first.cookies["refresh_id"])
    assert second.status_code == 200

    replay = await refresh_with(client, device.refresh_token)  # two generations back

    assert_problem(replay, 401, "refresh_token_reused")
    await assert_access_rejected(client, second.json()["access_token"])
    assert (await refresh_with(client, second.cookies["refresh_id"])).status_code == 401


async def test_revoking_every_session_on_a_cluster_reaches_each_sessions_slot(
    client: Client,
) -> None:
    devices = [await sign_up(client)] + [await sign_in(client) for _ in range(4)]

    response = await client.post("/auth/revoke", headers=devices[0].headers)

    assert response.status_code == 204
    for device in devices:
        await assert_access_rejected(client, device.access_token)
        assert (await refresh_with(client, device.refresh_token)).status_code == 401


async def test_login_limits_hold_on_a_cluster(client: Client) -> None:
    await sign_up(client)
    wrong = {"email": "user@site.com", "password": "not-the-password"}
    answers = [(await client.post("/auth/login", json=wrong)).status_code for _ in range(11)]

    assert answers[:10] == [401] * 10
    assert answers[10] == 429
