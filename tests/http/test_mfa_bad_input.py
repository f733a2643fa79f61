"""Bad input on every second-factor endpoint: a 4xx problem, never a 5xx, nothing written
(no secret activated or removed, no code or counter spent, no passkey stored, no session
started), and what the request named is still usable afterwards."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from typing import Any

import pytest

from infrastructure.config import Settings
from tests.fakes.authenticator import SoftAuthenticator, b64url
from tests.fakes.clock import FakeClock
from tests.http.helpers import BASE_URL, PASSWORD, Device, sign_up
from tests.http.mfa_helpers import App, WithTotp, enable_totp, password_step, rows, second_step

Client = Any
TOKEN = "<the mfa_token>"
GOOD = "<a verifying credential>"
LONG = "7" * 5000


@dataclass
class Scene:
    """Ada: an active app and a passkey, a sign-in waiting for its code, a passkey being
    registered. Bob: an app being set up."""

    client: Client
    ada: WithTotp
    bob: Device
    bobs_app: App
    mfa_token: str
    authenticator: SoftAuthenticator
    registration: dict[str, Any]  # a verifying response to a live registration challenge
    assertion: dict[str, Any]  # a verifying response to a live sign-in challenge

    def fill(self, body: Any) -> Any:
        """The case's body with its placeholders replaced."""
        if body == GOOD:
            return self.registration
        if isinstance(body, dict):
            return {key: self.fill(value) for key, value in body.items()}
        return self.mfa_token if body == TOKEN else body


@pytest.fixture
async def client(make_client: Callable[..., Client]) -> AsyncIterator[Client]:
    async with make_client(login_limit=100_000) as app_client:
        yield app_client


@pytest.fixture
async def scene(client: Client, clock: FakeClock) -> Scene:
    ada = await enable_totp(client, await sign_up(client, "ada@site.com", verified=True), clock)
    authenticator = SoftAuthenticator(BASE_URL)
    options = await client.post("/auth/passkeys/register/options", headers=ada.device.headers)
    first = authenticator.create(options.json())
    added = await client.post(
        "/auth/passkeys/register/verify", json={"credential": first}, headers=ada.device.headers
    )
    assert added.status_code == 201
    bob = await sign_up(client, "bob@site.com", verified=True)
    setup = await client.post("/auth/mfa/totp/setup", headers=bob.headers)
    options = await client.post("/auth/passkeys/register/options", headers=ada.device.headers)
    registration = authenticator.create(options.json())
    sign_in_options = await client.post("/auth/passkeys/login/options")
    return Scene(
        client=client,
        ada=ada,
        bob=bob,
        bobs_app=App(setup.json()["secret"], clock),
        mfa_token=await password_step(client, "ada@site.com"),
        authenticator=authenticator,
        registration=registration,
        assertion=authenticator.get(
            sign_in_options.json(), credential=authenticator.credentials[0]
        ),
    )


async def state(settings: Settings) -> dict[str, list[Any]]:
    tables = ("totp_credentials", "recovery_codes", "passkeys", "sessions")
    return {table: sorted(map(repr, await rows(settings, table))) for table in tables}


CONFIRM = ("POST", "/auth/mfa/totp/confirm", "bob")
RECOVERY = ("POST", "/auth/mfa/recovery-codes", "ada")
DISABLE = ("DELETE", "/auth/mfa/totp", "ada")
SECOND_STEP = ("POST", "/auth/login/mfa", None)
REGISTER = ("POST", "/auth/passkeys/register/verify", "ada")
PASSKEY_SIGN_IN = ("POST", "/auth/passkeys/login/verify", None)

BAD_BODIES = [
    (CONFIRM, {}),
    (CONFIRM, {"code": 123456}),
    (CONFIRM, {"code": None}),
    (CONFIRM, {"code": "abcdef"}),
    (CONFIRM, {"code": LONG}),
    (CONFIRM, ["123456"]),
    (RECOVERY, {}),
    (RECOVERY, {"code": "12345"}),
    (RECOVERY, {"code": ["123456"]}),
    (DISABLE, {}),
    (DISABLE, {"password": PASSWORD, "code": "123456"}),
    (DISABLE, {"code": "12 34"}),
    (DISABLE, {"password": 5}),
    (SECOND_STEP, {}),
    (SECOND_STEP, {"mfa_token": TOKEN}),
    (SECOND_STEP, {"mfa_token": TOKEN, "code": "123456", "recovery_code": "aaaaa-aaaaa"}),
    (SECOND_STEP, {"mfa_token": TOKEN, "code": "12"}),
    (SECOND_STEP, {"mfa_token": TOKEN, "code": 123456}),
    (SECOND_STEP, {"mfa_token": TOKEN, "recovery_code": "!!!!!-!!!!!"}),
    (SECOND_STEP, {"mfa_token": TOKEN, "recovery_code": LONG}),
    (SECOND_STEP, {"mfa_token": 5, "code": "123456"}),
    (REGISTER, {}),
    (REGISTER, {"credential": {}}),
    (REGISTER, {"credential": "a credential"}),
    (REGISTER, {"credential": GOOD, "name": "x" * 65}),
    (REGISTER, {"credential": GOOD, "name": ""}),
    (REGISTER, {"credential": GOOD, "name": "new\nline"}),
    (REGISTER, {"credential": {"id": "x", "rawId": "x", "type": "password", "response": {}}}),
    (
        REGISTER,
        {
            "credential": {
                "id": "%%%",
                "rawId": "%%%",
                "type": "public-key",
                "response": {"clientDataJSON": "%%%", "attestationObject": "%%%"},
            }
        },
    ),
    (PASSKEY_SIGN_IN, {}),
    (PASSKEY_SIGN_IN, {"credential": {}}),
    (
        PASSKEY_SIGN_IN,
        {
            "credential": {
                "id": "AA",
                "rawId": "AA",
                "type": "public-key",
                "response": {"clientDataJSON": "e30", "authenticatorData": "", "signature": ""},
            }
        },
    ),
]


def headers_for(scene: Scene, who: str | None) -> dict[str, str]:
    if who == "ada":
        return scene.ada.device.headers
    if who == "bob":
        return scene.bob.headers
    return {}


async def still_usable(scene: Scene, path: str) -> None:
    """What the refused request named works as before."""
    client = scene.client
    if path == "/auth/mfa/totp/confirm":
        confirmed = await client.post(
            path, json={"code": scene.bobs_app.code()}, headers=scene.bob.headers
        )
        assert confirmed.status_code == 200, confirmed.text
    elif path == "/auth/passkeys/register/verify":
        added = await client.post(
            path, json={"credential": scene.registration}, headers=scene.ada.device.headers
        )
        assert added.status_code == 201, added.text
    elif path == "/auth/passkeys/login/verify":
        signed_in = await client.post(path, json={"credential": scene.assertion})
        assert signed_in.status_code == 200, signed_in.text
    else:  # the app is still on, its codes unspent, the waiting sign-in still waiting
        done = await second_step(client, scene.mfa_token, code=scene.ada.app.next_code())
        assert done.status_code == 200, done.text
        codes = await client.post(
            "/auth/mfa/recovery-codes",
            json={"code": scene.ada.app.next_code()},
            headers=scene.ada.device.headers,
        )
        assert codes.status_code == 200, codes.text


@pytest.mark.parametrize(("endpoint", "body"), BAD_BODIES)
async def test_a_bad_body_gets_a_problem_and_writes_nothing(
    scene: Scene, settings: Settings, endpoint: tuple[str, str, str | None], body: Any
) -> None:
    method, path, who = endpoint
    before = await state(settings)

    response = await scene.client.request(
        method, path, json=scene.fill(body), headers=headers_for(scene, who)
    )

    assert 400 <= response.status_code < 500, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    assert response.json()["code"]
    assert await state(settings) == before
    await still_usable(scene, path)


RAW = [
    ("{not json", "application/json", 400),
    ('{"code": "123456"}', "text/plain", 415),
    (json.dumps({"code": "1" * 70_000}), "application/json", 413),
]


# The body is read the same way everywhere (interfaces/http/json_or_form.py): one endpoint with a
# Bearer token and one without stand for all.
@pytest.mark.parametrize("endpoint", [DISABLE, SECOND_STEP])
@pytest.mark.parametrize(("raw", "content_type", "status"), RAW)
async def test_a_malformed_body_gets_its_problem_and_writes_nothing(
    scene: Scene,
    settings: Settings,
    endpoint: tuple[str, str, str | None],
    raw: str,
    content_type: str,
    status: int,
) -> None:
    method, path, who = endpoint
    before = await state(settings)
    response = await scene.client.request(
        method,
        path,
        content=raw.encode(),
        headers={**headers_for(scene, who), "Content-Type": content_type},
    )
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    assert await state(settings) == before


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("POST", "/auth/mfa/totp/setup"),
        ("POST", "/auth/mfa/totp/confirm"),
        ("POST", "/auth/mfa/recovery-codes"),
        ("DELETE", "/auth/mfa/totp"),
        ("POST", "/auth/passkeys/register/options"),
        ("POST", "/auth/passkeys/register/verify"),
        ("GET", "/auth/passkeys"),
        ("DELETE", "/auth/passkeys/1"),
        ("GET", "/auth/mfa"),
    ],
)
async def test_a_bad_access_token_gets_401_and_writes_nothing(
    scene: Scene, settings: Settings, method: str, path: str
) -> None:
    before = await state(settings)
    for headers in ({}, {"Authorization": "Bearer not-a-token"}):
        response = await scene.client.request(
            method, path, json={"code": scene.bobs_app.code()}, headers=headers
        )
        assert response.status_code == 401, response.text
        assert response.json()["code"] == "invalid_token"
    assert await state(settings) == before


async def test_a_foreign_origin_cannot_complete_a_sign_in(scene: Scene, settings: Settings):
    before = await state(settings)
    for path, body in [
        ("/auth/login/mfa", {"mfa_token": scene.mfa_token, "code": scene.ada.app.next_code()}),
        ("/auth/passkeys/login/verify", {"credential": scene.assertion}),
    ]:
        response = await scene.client.post(
            path, json=body, headers={"Origin": "https://evil.example"}
        )
        assert response.status_code == 403, response.text
        assert response.json()["code"] == "origin_not_allowed"
    assert await state(settings) == before
    await still_usable(scene, "/auth/passkeys/login/verify")
    done = await second_step(scene.client, scene.mfa_token, code=scene.ada.app.code())
    assert done.status_code == 200, done.text


async def test_an_unreadable_registration_leaves_its_challenge_usable(scene: Scene):
    garbled = dict(scene.registration)
    garbled["response"] = {**scene.registration["response"], "clientDataJSON": b64url(b"{")}
    response = await scene.client.post(
        "/auth/passkeys/register/verify",
        json={"credential": garbled},
        headers=scene.ada.device.headers,
    )
    assert response.status_code == 400
    await still_usable(scene, "/auth/passkeys/register/verify")
