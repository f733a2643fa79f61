"""Verbs the second-factor HTTP tests share: an authenticator app that reads the test's
clock, turning it on, and the two steps of a password sign-in."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import httpx
import pyotp

from infrastructure.config import Settings
from interfaces.bootstrap.backends import open_database
from tests.fakes.clock import FakeClock
from tests.http.helpers import PASSWORD, Device, assert_problem, bearer

STEP = 30


@dataclass
class App:
    """An authenticator app holding one secret, on the test's clock."""

    secret: str
    clock: FakeClock

    def code(self, steps: int = 0) -> str:
        """The code shown now, or ``steps`` time steps away (a phone's clock off by that)."""
        return pyotp.TOTP(self.secret).at(self.clock.now() + timedelta(seconds=STEP * steps))

    def next_code(self) -> str:
        """Wait for the next time step and read its code (each code is accepted once)."""
        self.clock.advance(STEP)
        return self.code()


@dataclass
class WithTotp:
    device: Device
    app: App
    recovery_codes: list[str]


async def enable_totp(client: httpx.AsyncClient, device: Device, clock: FakeClock) -> WithTotp:
    setup = await client.post("/auth/mfa/totp/setup", headers=device.headers)
    assert setup.status_code == 200, setup.text
    app = App(setup.json()["secret"], clock)
    confirmed = await client.post(
        "/auth/mfa/totp/confirm", json={"code": app.code()}, headers=device.headers
    )
    assert confirmed.status_code == 200, confirmed.text
    # The right code made the session aal2: the new access token says so (step-up).
    aal2 = dataclasses.replace(device, access_token=confirmed.json()["access_token"])
    return WithTotp(aal2, app, confirmed.json()["recovery_codes"])


async def password_step(
    client: httpx.AsyncClient, email: str = "user@site.com", password: str = PASSWORD
) -> str:
    """The first step: the right password answers 401 ``mfa_required``; its ``mfa_token``."""
    response = await client.post("/auth/login", json={"email": email, "password": password})
    body = assert_problem(response, 401, "mfa_required")
    return str(body["mfa_token"])


async def second_step(client: httpx.AsyncClient, mfa_token: str, **code: str) -> Any:
    return await client.post("/auth/login/mfa", json={"mfa_token": mfa_token, **code})


async def me_ok(client: httpx.AsyncClient, access_token: str) -> bool:
    return (await client.get("/auth/me", headers=bearer(access_token))).status_code == 200


async def rows(settings: Settings, table: str) -> list[dict[str, Any]]:
    database = open_database(settings)
    try:
        async with database.transaction(write=False) as tx:
            found = await tx.fetchall(f"SELECT * FROM {table}")
    finally:
        await database.close()
    return [dict(row) for row in found]


async def reauthenticate(client: httpx.AsyncClient, device: Device, **proof: Any) -> Device:
    """``POST /auth/reauthenticate``: the same session, a fresh proof in a new access token."""
    response = await client.post("/auth/reauthenticate", json=proof, headers=device.headers)
    assert response.status_code == 200, response.text
    return dataclasses.replace(device, access_token=response.json()["access_token"])


async def reauthenticate_with_passkey(
    client: httpx.AsyncClient, device: Device, authenticator: Any
) -> Device:
    options = await client.post("/auth/passkeys/reauthenticate/options", headers=device.headers)
    assert options.status_code == 200, options.text
    return await reauthenticate(client, device, credential=authenticator.get(options.json()))
