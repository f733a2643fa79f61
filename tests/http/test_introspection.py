"""POST /auth/introspect (RFC 7662): resource servers authenticated with HTTP Basic learn
whether an access token is active, the session denylist included."""

from __future__ import annotations

import base64
from collections.abc import AsyncIterator

import pytest

from tests.http.conftest import Client
from tests.http.helpers import (
    BASE_URL,
    assert_problem,
    jwt_parts,
    sign_in,
    sign_up,
)

SECRET = "orders-secret-0123456789abcdefghijkl"
CLIENTS = (f"orders:{SECRET}", f"billing:{SECRET[::-1]}")
FORM = {"Content-Type": "application/x-www-form-urlencoded"}


def basic(client_id: str, secret: str) -> dict[str, str]:
    credentials = base64.b64encode(f"{client_id}:{secret}".encode()).decode()
    return {"Authorization": f"Basic {credentials}"}


ORDERS = basic("orders", SECRET)


@pytest.fixture
async def service(make_client) -> AsyncIterator[Client]:
    """The service with two resource servers allowed to introspect."""
    async with make_client(introspection_clients=CLIENTS) as client:
        yield client


async def introspect(client: Client, token: str, **fields: str):
    return await client.post("/auth/introspect", data={"token": token, **fields}, headers=ORDERS)


async def test_a_live_access_token_is_active_with_its_claims(service):
    device = await sign_up(service)

    answer = await introspect(service, device.access_token, token_type_hint="access_token")

    assert answer.status_code == 200, answer.text
    assert answer.headers["cache-control"] == "no-store"
    _, claims = jwt_parts(device.access_token)
    assert answer.json() == {
        "active": True,
        "token_type": "Bearer",
        "client_id": "authgate",
        "sub": claims["sub"],
        "sid": claims["sid"],
        "role": "user",
        "iss": BASE_URL,
        "aud": "authgate",
        "jti": claims["jti"],
        "iat": claims["iat"],
        "exp": claims["iat"] + 900,
    }


async def test_the_fields_may_come_as_json_too(service):
    device = await sign_up(service)

    answer = await service.post(
        "/auth/introspect", json={"token": device.access_token}, headers=ORDERS
    )

    assert answer.json()["active"] is True


async def test_every_configured_client_may_introspect(service):
    device = await sign_up(service)

    answer = await service.post(
        "/auth/introspect",
        data={"token": device.access_token},
        headers=basic("billing", SECRET[::-1]),
    )

    assert answer.json()["active"] is True


async def test_the_token_of_a_logged_out_session_is_inactive_at_once(service):
    device = await sign_up(service)
    other = await sign_in(service)
    logout = await service.post("/auth/logout", headers=device.cookie)
    assert logout.status_code == 204

    dead = await introspect(service, device.access_token)
    alive = await introspect(service, other.access_token)

    assert dead.status_code == 200
    assert dead.json() == {"active": False}
    assert dead.headers["cache-control"] == "no-store"
    assert alive.json()["active"] is True


async def test_the_tokens_of_every_session_are_inactive_after_revoke(service):
    first = await sign_up(service)
    second = await sign_in(service)
    revoked = await service.post("/auth/revoke", headers=second.headers)
    assert revoked.status_code == 204

    for device in (first, second):
        assert (await introspect(service, device.access_token)).json() == {"active": False}


async def test_an_expired_access_token_is_inactive(service, clock):
    device = await sign_up(service)
    clock.advance(901)

    assert (await introspect(service, device.access_token)).json() == {"active": False}


async def test_a_refresh_token_is_inactive_whatever_the_hint(service):
    device = await sign_up(service)

    for hint in ("refresh_token", "access_token", "something_else"):
        answer = await introspect(service, device.refresh_token, token_type_hint=hint)
        assert answer.json() == {"active": False}
    answer = await introspect(service, device.refresh_token)
    assert answer.json() == {"active": False}


@pytest.mark.parametrize("token", ["", "garbage", "a.b.c", "x" * 10_000])
async def test_anything_else_is_inactive(service, token):
    answer = await introspect(service, token)

    assert answer.status_code == 200
    assert answer.json() == {"active": False}


@pytest.mark.parametrize(
    "headers",
    [
        {},
        basic("orders", SECRET[:-1]),
        basic("orders", SECRET + "x"),
        basic("orders", SECRET[::-1]),  # billing's secret
        basic("stranger", SECRET),
        {"Authorization": f"Bearer {SECRET}"},
        {"Authorization": "Basic not-base64!"},
        {"Authorization": "Basic " + base64.b64encode(b"no colon at all").decode()},
        {"Authorization": "Basic " + base64.b64encode(b"orders:\xff\xfe").decode()},
    ],
)
async def test_a_caller_without_the_right_credentials_is_refused(service, headers):
    device = await sign_up(service)

    answer = await service.post(
        "/auth/introspect", data={"token": device.access_token}, headers=headers
    )

    assert_problem(answer, 401, "invalid_client")
    assert answer.headers["www-authenticate"] == 'Basic realm="authgate"'


async def test_credentials_are_checked_before_the_body_is_read(service):
    answer = await service.post(
        "/auth/introspect", content=b"{not json", headers={"Content-Type": "application/json"}
    )

    assert_problem(answer, 401, "invalid_client")


async def test_form_encoded_credentials_are_decoded_as_oauth_clients_send_them(service):
    # RFC 6749 §2.3.1: id and secret are form-encoded before HTTP Basic.
    device = await sign_up(service)
    encoded = "".join(f"%{ord(c):02X}" for c in "orders")

    answer = await service.post(
        "/auth/introspect", data={"token": device.access_token}, headers=basic(encoded, SECRET)
    )

    assert answer.json()["active"] is True


async def test_a_missing_token_is_a_validation_problem(service):
    answer = await service.post(
        "/auth/introspect", data={"token_type_hint": "access_token"}, headers=ORDERS
    )

    body = assert_problem(answer, 422, "validation_failed")
    assert body["errors"] == [
        {"field": "token", "message": "Object missing required field `token`"}
    ]


@pytest.mark.parametrize(
    ("content", "headers", "status", "code"),
    [
        (b"token=a&token=b", FORM, 400, "malformed_body"),
        (b"token=\xff", FORM, 400, "malformed_body"),
        (b'{"token": 5}', {"Content-Type": "application/json"}, 422, "validation_failed"),
        (b"{", {"Content-Type": "application/json"}, 400, "malformed_json"),
        (b"token=a", {"Content-Type": "text/plain"}, 415, "unsupported_media_type"),
    ],
)
async def test_a_malformed_body_is_a_problem(service, content, headers, status, code):
    answer = await service.post("/auth/introspect", content=content, headers={**ORDERS, **headers})

    assert_problem(answer, status, code)


async def test_without_configured_clients_introspection_is_not_found(client):
    device = await sign_up(client)

    answer = await client.post(
        "/auth/introspect", data={"token": device.access_token}, headers=ORDERS
    )

    body = assert_problem(answer, 404, "not_found")
    assert "AUTH_INTROSPECTION_CLIENTS" in body["detail"]


async def test_introspection_is_documented_with_its_form_and_basic_authentication(client):
    document = (await client.get("/schema/openapi.json")).json()
    operation = document["paths"]["/auth/introspect"]["post"]

    assert list(operation["requestBody"]["content"]) == [
        "application/x-www-form-urlencoded",
        "application/json",
    ]
    assert operation["security"] == [{"introspection_client": []}]
    assert document["components"]["securitySchemes"]["introspection_client"]["scheme"] == ("basic")
    assert {"200", "401", "404", "422", "503"} <= set(operation["responses"])
    assert "`invalid_client`" in operation["responses"]["401"]["description"]
