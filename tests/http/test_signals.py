"""Shared Signals over HTTP (OpenID SSF 1.0, CAEP, RFC 8936 poll): a resource server that
verifies access tokens offline polls for the sessions that ended and gets each one as a
signed Security Event Token, whatever ended it."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any, cast

import pytest
from joserfc import jwt
from joserfc.jwk import KeySet

from tests.http.conftest import Client
from tests.http.helpers import (
    BASE_URL,
    PASSWORD,
    assert_problem,
    bearer,
    jwt_parts,
    sign_in,
    sign_up,
)

TOKEN = "orders-bearer-0123456789abcdefghijklmn"
RECEIVERS = (f"orders:{TOKEN}", f"billing:{TOKEN[::-1]}")
ORDERS = bearer(TOKEN)
SESSION_REVOKED = "https://schemas.openid.net/secevent/caep/event-type/session-revoked"


@pytest.fixture
async def service(make_client) -> AsyncIterator[Client]:
    async with make_client(ssf_receivers=RECEIVERS) as client:
        yield client


async def poll(client: Client, **body: Any) -> dict[str, Any]:
    answer = await client.post(
        "/ssf/poll", json={"returnImmediately": True, **body}, headers=ORDERS
    )
    assert answer.status_code == 200, answer.text
    assert answer.headers["cache-control"] == "no-store"
    polled: dict[str, Any] = answer.json()
    return polled


async def events(client: Client) -> list[dict[str, Any]]:
    """The SETs waiting for "orders", verified with the service's JWKS, and acknowledged."""
    keys = KeySet.import_key_set(cast(Any, (await client.get("/.well-known/jwks.json")).json()))
    polled = await poll(client)
    found = []
    for jti, token in polled["sets"].items():
        decoded = jwt.decode(token, keys, algorithms=["ES256"])
        assert decoded.header["typ"] == "secevent+jwt"
        assert decoded.claims["jti"] == jti
        assert decoded.claims["aud"] == "orders"
        assert decoded.claims["iss"] == BASE_URL
        found.append(dict(decoded.claims))
    await poll(client, ack=list(polled["sets"]), maxEvents=0)
    return found


def ended(found: list[dict[str, Any]]) -> list[tuple[str, str]]:
    """(session id, reason) of each session-revoked event."""
    return [
        (e["sub_id"]["session"]["id"], e["events"][SESSION_REVOKED]["reason_admin"]["en"])
        for e in found
    ]


def sid(access_token: str) -> str:
    return str(jwt_parts(access_token)[1]["sid"])


async def test_every_way_a_session_ends_is_an_event_for_the_receivers(service):
    here = await sign_up(service, verified=True)
    there = await sign_in(service)
    elsewhere = await sign_in(service)
    assert await events(service) == []

    await service.post(
        "/auth/logout", headers={**here.headers, "Cookie": f"refresh_id={here.refresh_token}"}
    )
    await service.delete(f"/auth/sessions/{sid(there.access_token)}", headers=elsewhere.headers)
    await service.post("/auth/revoke", json={}, headers=elsewhere.headers)

    assert ended(await events(service)) == [
        (sid(here.access_token), "logout"),
        (sid(there.access_token), "revoked_by_user"),
        (sid(elsewhere.access_token), "revoke_all"),
    ]


async def test_a_set_names_the_session_by_its_sid_and_is_no_access_token(service):
    device = await sign_up(service)
    await service.post("/auth/revoke", json={}, headers=device.headers)

    [event] = await events(service)

    # The sid of the session's access tokens, and nothing that names the user.
    assert event["sub_id"] == {
        "format": "complex",
        "session": {"format": "opaque", "id": sid(device.access_token)},
    }
    assert "exp" not in event
    polled_again = await poll(service)
    assert polled_again == {"sets": {}, "moreAvailable": False}  # acknowledged: never again
    # A SET presented as an access token is refused (typ secevent+jwt, no exp).
    await service.post("/auth/revoke", json={}, headers=(await sign_in(service)).headers)
    token = next(iter((await poll(service))["sets"].values()))
    assert_problem(await service.get("/auth/me", headers=bearer(token)), 401, "invalid_token")


async def test_each_receiver_acknowledges_for_itself(service):
    device = await sign_up(service)
    await service.post("/auth/revoke", json={}, headers=device.headers)
    await events(service)  # orders got it and acknowledged it

    billing = await service.post(
        "/ssf/poll", json={"returnImmediately": True}, headers=bearer(TOKEN[::-1])
    )

    assert len(billing.json()["sets"]) == 1


@pytest.mark.parametrize(
    "headers",
    [{}, bearer("not-a-receiver-token-0123456789abcdef"), {"Authorization": f"Basic {TOKEN}"}],
    ids=["none", "unknown", "not-bearer"],
)
async def test_only_a_configured_receiver_may_poll(service, headers):
    answer = await service.post("/ssf/poll", json={}, headers=headers)
    assert_problem(answer, 401, "invalid_token")
    assert answer.headers["www-authenticate"].startswith("Bearer")
    assert_problem(await service.get("/ssf/stream", headers=headers), 401, "invalid_token")


@pytest.mark.parametrize(
    "body",
    [{"maxEvents": -1}, {"maxEvents": 1001}, {"ack": "1"}, {"returnImmediately": "yes"}, []],
)
async def test_a_bad_poll_is_a_problem(service, body):
    answer = await service.post("/ssf/poll", json=body, headers=ORDERS)
    assert answer.status_code in (400, 422), answer.text
    assert answer.headers["content-type"].startswith("application/problem+json")


async def test_the_metadata_and_the_stream_say_where_to_poll(service):
    metadata = (await service.get("/.well-known/ssf-configuration")).json()
    stream = await service.get("/ssf/stream", headers=ORDERS)

    assert metadata["issuer"] == BASE_URL
    assert metadata["jwks_uri"] == f"{BASE_URL}/.well-known/jwks.json"
    assert metadata["delivery_methods_supported"] == ["urn:ietf:rfc:8936"]
    assert stream.json()["delivery"] == {
        "method": "urn:ietf:rfc:8936",
        "endpoint_url": f"{BASE_URL}/ssf/poll",
    }
    assert stream.json()["events_delivered"] == [SESSION_REVOKED]


async def test_without_receivers_it_is_all_404(client):
    assert_problem(await client.get("/.well-known/ssf-configuration"), 404, "not_found")
    assert_problem(await client.post("/ssf/poll", json={}, headers=ORDERS), 404, "not_found")


async def test_a_password_change_ends_the_other_sessions_as_events(service):
    here = await sign_up(service)
    other = await sign_in(service)
    change = {"current_password": PASSWORD, "new_password": "another long password"}
    assert (
        await service.post("/auth/password/change", json=change, headers=here.headers)
    ).status_code == 204

    assert ended(await events(service)) == [(sid(other.access_token), "password_changed")]
