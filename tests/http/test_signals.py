"""Shared Signals over HTTP (OpenID SSF 1.0, CAEP, RFC 8936 poll): each process of a resource
server that verifies access tokens offline opens a stream, polls it for the sessions that
ended and gets each one as a signed Security Event Token, whatever ended it."""

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


async def open_stream(client: Client, headers: dict[str, str] = ORDERS) -> str:
    """A new stream's poll path."""
    answer = await client.post(
        "/ssf/stream", json={"delivery": {"method": "urn:ietf:rfc:8936"}}, headers=headers
    )
    assert answer.status_code == 201, answer.text
    url: str = answer.json()["delivery"]["endpoint_url"]
    return url.removeprefix(BASE_URL)


@pytest.fixture
async def stream(service: Client) -> str:
    return await open_stream(service)


async def poll(client: Client, stream: str, **body: Any) -> dict[str, Any]:
    answer = await client.post(stream, json={"returnImmediately": True, **body}, headers=ORDERS)
    assert answer.status_code == 200, answer.text
    assert answer.headers["cache-control"] == "no-store"
    polled: dict[str, Any] = answer.json()
    return polled


async def events(client: Client, stream: str) -> list[dict[str, Any]]:
    """The SETs waiting on an "orders" stream, verified with the service's JWKS, and
    acknowledged."""
    keys = KeySet.import_key_set(cast(Any, (await client.get("/.well-known/jwks.json")).json()))
    polled = await poll(client, stream)
    found = []
    for jti, token in polled["sets"].items():
        decoded = jwt.decode(token, keys, algorithms=["ES256"])
        assert decoded.header["typ"] == "secevent+jwt"
        assert decoded.claims["jti"] == jti
        assert decoded.claims["aud"] == "orders"
        assert decoded.claims["iss"] == BASE_URL
        found.append(dict(decoded.claims))
    await poll(client, stream, ack=list(polled["sets"]), maxEvents=0)
    return found


def ended(found: list[dict[str, Any]]) -> list[tuple[str, str]]:
    """(session id, reason) of each session-revoked event."""
    return [
        (e["sub_id"]["session"]["id"], e["events"][SESSION_REVOKED]["reason_admin"]["en"])
        for e in found
    ]


def sid(access_token: str) -> str:
    return str(jwt_parts(access_token)[1]["sid"])


async def test_every_way_a_session_ends_is_an_event_for_the_receivers(service, stream):
    here = await sign_up(service, verified=True)
    there = await sign_in(service)
    elsewhere = await sign_in(service)
    assert await events(service, stream) == []

    await service.post(
        "/auth/logout", headers={**here.headers, "Cookie": f"refresh_id={here.refresh_token}"}
    )
    await service.delete(f"/auth/sessions/{sid(there.access_token)}", headers=elsewhere.headers)
    await service.post("/auth/revoke", json={}, headers=elsewhere.headers)

    assert ended(await events(service, stream)) == [
        (sid(here.access_token), "logout"),
        (sid(there.access_token), "revoked_by_user"),
        (sid(elsewhere.access_token), "revoke_all"),
    ]


async def test_a_set_names_the_session_by_its_sid_and_is_no_access_token(service, stream):
    device = await sign_up(service)
    await service.post("/auth/revoke", json={}, headers=device.headers)

    [event] = await events(service, stream)

    # The sid of the session's access tokens, and nothing that names the user.
    assert event["sub_id"] == {
        "format": "complex",
        "session": {"format": "opaque", "id": sid(device.access_token)},
    }
    assert "exp" not in event
    polled_again = await poll(service, stream)
    assert polled_again == {"sets": {}, "moreAvailable": False}  # acknowledged: never again
    # A SET presented as an access token is refused (typ secevent+jwt, no exp).
    await service.post("/auth/revoke", json={}, headers=(await sign_in(service)).headers)
    token = next(iter((await poll(service, stream))["sets"].values()))
    assert_problem(await service.get("/auth/me", headers=bearer(token)), 401, "invalid_token")


async def test_each_stream_acknowledges_for_itself(service, stream):
    """Two processes that verify with one receiver's token each read every end: what one
    acknowledges the other is still sent (before streams, they split the events)."""
    sibling = await open_stream(service)
    billing_headers = bearer(TOKEN[::-1])
    billing = await open_stream(service, billing_headers)
    device = await sign_up(service)
    await service.post("/auth/revoke", json={}, headers=device.headers)
    await events(service, stream)  # this process got it and acknowledged it

    assert len(await events(service, sibling)) == 1
    answer = await service.post(billing, json={"returnImmediately": True}, headers=billing_headers)
    assert len(answer.json()["sets"]) == 1


async def test_a_stream_opened_later_gets_the_ends_still_kept(service, stream):
    """A verifier that starts again opens a new stream and learns the sessions that ended
    before it started (their tokens may still be live), though its last stream read them."""
    device = await sign_up(service)
    await service.post("/auth/revoke", json={}, headers=device.headers)
    before = await events(service, stream)

    assert ended(await events(service, await open_stream(service))) == ended(before)


async def test_a_receiver_lists_reads_and_closes_its_own_streams(service, stream):
    stream_id = stream.rsplit("/", 1)[1]
    billing_headers = bearer(TOKEN[::-1])
    billing = (await open_stream(service, billing_headers)).rsplit("/", 1)[1]

    listed = await service.get("/ssf/stream", headers=ORDERS)
    one = await service.get("/ssf/stream", params={"stream_id": stream_id}, headers=ORDERS)
    assert [s["stream_id"] for s in listed.json()] == [stream_id]
    assert one.json()["stream_id"] == stream_id
    assert one.json()["aud"] == "orders"
    assert one.headers["cache-control"] == "no-store"
    # another receiver's stream is none of this one's
    theirs = {"stream_id": billing}
    assert_problem(
        await service.get("/ssf/stream", params=theirs, headers=ORDERS), 404, "stream_not_found"
    )
    assert_problem(
        await service.delete("/ssf/stream", params=theirs, headers=ORDERS), 404, "stream_not_found"
    )
    assert_problem(
        await service.post(f"/ssf/poll/{billing}", json={}, headers=ORDERS),
        404,
        "stream_not_found",
    )

    closed = await service.delete("/ssf/stream", params={"stream_id": stream_id}, headers=ORDERS)
    assert closed.status_code == 204
    assert_problem(await service.post(stream, json={}, headers=ORDERS), 404, "stream_not_found")
    assert (await service.get("/ssf/stream", headers=ORDERS)).json() == []
    assert len((await service.get("/ssf/stream", headers=billing_headers)).json()) == 1


@pytest.mark.parametrize(
    "body",
    [{"delivery": {"method": "urn:ietf:rfc:8935"}}, {"delivery": "poll"}, []],
    ids=["push", "not-an-object", "not-an-object-either"],
)
async def test_a_stream_is_by_poll_only(service, body):
    answer = await service.post("/ssf/stream", json=body, headers=ORDERS)
    assert answer.status_code in (400, 422), answer.text
    assert answer.headers["content-type"].startswith("application/problem+json")
    assert (await service.get("/ssf/stream", headers=ORDERS)).json() == []


async def test_a_stream_is_opened_with_nothing_said(service):
    answer = await service.post("/ssf/stream", json={}, headers=ORDERS)
    assert answer.status_code == 201
    assert answer.json()["delivery"]["method"] == "urn:ietf:rfc:8936"


@pytest.mark.parametrize(
    "headers",
    [{}, bearer("not-a-receiver-token-0123456789abcdef"), {"Authorization": f"Basic {TOKEN}"}],
    ids=["none", "unknown", "not-bearer"],
)
async def test_only_a_configured_receiver_may_poll(service, stream, headers):
    answer = await service.post(stream, json={}, headers=headers)
    assert_problem(answer, 401, "invalid_token")
    assert answer.headers["www-authenticate"].startswith("Bearer")
    assert_problem(await service.get("/ssf/stream", headers=headers), 401, "invalid_token")
    assert_problem(
        await service.post("/ssf/stream", json={}, headers=headers), 401, "invalid_token"
    )
    params = {"stream_id": stream.rsplit("/", 1)[1]}
    answer = await service.delete("/ssf/stream", params=params, headers=headers)
    assert_problem(answer, 401, "invalid_token")


@pytest.mark.parametrize(
    "body",
    [{"maxEvents": -1}, {"maxEvents": 1001}, {"ack": "1"}, {"returnImmediately": "yes"}, []],
)
async def test_a_bad_poll_is_a_problem(service, stream, body):
    answer = await service.post(stream, json=body, headers=ORDERS)
    assert answer.status_code in (400, 422), answer.text
    assert answer.headers["content-type"].startswith("application/problem+json")


async def test_the_metadata_and_the_stream_say_where_to_poll(service):
    metadata = (await service.get("/.well-known/ssf-configuration")).json()
    opened = await service.post("/ssf/stream", json={}, headers=ORDERS)

    assert metadata["issuer"] == BASE_URL
    assert metadata["jwks_uri"] == f"{BASE_URL}/.well-known/jwks.json"
    assert metadata["delivery_methods_supported"] == ["urn:ietf:rfc:8936"]
    assert metadata["configuration_endpoint"] == f"{BASE_URL}/ssf/stream"
    stream_id = opened.json()["stream_id"]
    assert len(stream_id) >= 22  # 128 random bits
    assert opened.json()["delivery"] == {
        "method": "urn:ietf:rfc:8936",
        "endpoint_url": f"{BASE_URL}/ssf/poll/{stream_id}",
    }
    assert opened.json()["events_delivered"] == [SESSION_REVOKED]
    assert opened.headers["cache-control"] == "no-store"


async def test_without_receivers_it_is_all_404(client):
    assert_problem(await client.get("/.well-known/ssf-configuration"), 404, "not_found")
    assert_problem(await client.post("/ssf/stream", json={}, headers=ORDERS), 404, "not_found")
    assert_problem(await client.post("/ssf/poll/x", json={}, headers=ORDERS), 404, "not_found")


async def test_a_password_change_ends_the_other_sessions_as_events(service, stream):
    here = await sign_up(service)
    other = await sign_in(service)
    change = {"current_password": PASSWORD, "new_password": "another long password"}
    assert (
        await service.post("/auth/password/change", json=change, headers=here.headers)
    ).status_code == 204

    assert ended(await events(service, stream)) == [(sid(other.access_token), "password_changed")]
