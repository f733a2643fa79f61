"""``AuthgateAuth`` with an ``httpx.AsyncClient`` against a real authgate process: the same
dance as with the synchronous client, concurrent tasks sharing one refresh."""

from __future__ import annotations

import asyncio

import httpx
import pytest

from authgate_client import (
    AuthgateAuth,
    AuthgateError,
    MemoryStorage,
    SignedOut,
    StepUpChallenge,
)
from support import (
    ACCESS_TTL,
    PASSWORD,
    REAUTH_MAX_AGE,
    Sent,
    Server,
    Ticks,
    an_api_redirecting_to_a_challenge,
    another_host,
    new_email,
    pull_old_signing_keys,
    wait_until_refused,
)


@pytest.fixture
def sent() -> Sent:
    return Sent()


def api(server: Server, auth: AuthgateAuth, sent: Sent) -> httpx.AsyncClient:
    return httpx.AsyncClient(
        base_url=server.url, auth=auth, event_hooks={"response": [sent.arecord]}
    )


async def signed_in(
    server: Server, sent: Sent, **options
) -> tuple[AuthgateAuth, httpx.AsyncClient, str]:
    auth = AuthgateAuth(server.url, **options)
    client = api(server, auth, sent)
    email = new_email()
    await auth.aregister(client, email, PASSWORD)
    return auth, client, email


async def test_login_signs_in_and_requests_carry_the_access_token(server, sent):
    auth, client, email = await signed_in(server, sent)
    await auth.alogout(client)
    storage = MemoryStorage()
    again = AuthgateAuth(server.url, storage)

    user = await again.alogin(client, email, PASSWORD)
    async with api(server, again, sent) as signed:
        me = await signed.get("/auth/me")

    assert me.status_code == 200
    assert me.json()["user"] == user
    assert storage.get()
    assert sent.refreshes == []


async def test_the_access_token_goes_to_authgate_and_the_apis_named_and_nowhere_else(server, sent):
    ticks = Ticks()
    with another_host() as api_host, another_host() as third_party:
        _, client, _ = await signed_in(server, sent, api_origins=[api_host.url], clock=ticks)

        assert (await client.get(f"{api_host.url}/orders")).status_code == 200
        ticks.advance(ACCESS_TTL)
        assert (await client.get(f"{third_party.url}/pixel.gif")).status_code == 200

        [bearer] = api_host.authorizations
        assert (bearer or "").startswith("Bearer ")
        assert third_party.authorizations == [None]
        assert sent.refreshes == []
        assert (await client.get("/auth/me")).status_code == 200
        assert sent.refreshes == [200]


async def test_an_answer_redirected_to_a_third_party_sets_off_no_refresh_and_no_step_up(
    server, sent
):
    asked: list[StepUpChallenge] = []

    async def step_up(challenge: StepUpChallenge) -> dict[str, str]:
        asked.append(challenge)
        return {"password": PASSWORD}

    with an_api_redirecting_to_a_challenge() as (api_host, third_party):
        _, client, _ = await signed_in(server, sent, api_origins=[api_host.url], step_up=step_up)

        answer = await client.get(f"{api_host.url}/go", follow_redirects=True)

        assert answer.status_code == 401
        assert asked == []
        assert sent.refreshes == []
        assert third_party.authorizations == [None]


async def test_a_token_close_to_its_expiry_is_refreshed_before_the_request(server, sent):
    ticks = Ticks()
    storage = MemoryStorage()
    _auth, client, _ = await signed_in(server, sent, storage=storage, clock=ticks)
    first_refresh_token = storage.get()
    ticks.advance(ACCESS_TTL - 29)  # within the default 30 s margin

    answer = await client.get("/auth/me")

    assert answer.status_code == 200
    assert sent.calls[-2:] == [("POST", "/auth/refresh", 200), ("GET", "/auth/me", 200)]
    assert storage.get() not in (None, first_refresh_token)


async def test_a_token_outside_the_margin_is_used_as_it_is(server, sent):
    ticks = Ticks()
    _auth, client, _ = await signed_in(server, sent, clock=ticks)
    ticks.advance(ACCESS_TTL - 31)

    assert (await client.get("/auth/me")).status_code == 200
    assert sent.refreshes == []


async def test_concurrent_tasks_due_for_a_refresh_share_one(server, sent):
    ticks = Ticks()
    _auth, client, _ = await signed_in(server, sent, clock=ticks)
    ticks.advance(ACCESS_TTL)

    answers = await asyncio.gather(*(client.get("/auth/me") for _ in range(16)))

    assert [a.status_code for a in answers] == [200] * 16
    assert sent.refreshes == [200]


async def test_concurrent_tasks_refused_with_401_share_one_refresh(server, sent):
    _auth, client, email = await signed_in(server, sent)
    probe = httpx.post(f"{server.url}/auth/login", json={"email": email, "password": PASSWORD})
    await asyncio.to_thread(pull_old_signing_keys, server)
    await asyncio.to_thread(wait_until_refused, server, probe.json()["access_token"])

    answers = await asyncio.gather(*(client.get("/auth/sessions") for _ in range(8)))

    assert [a.status_code for a in answers] == [200] * 8
    assert sent.to("/auth/sessions").count(401) == 8
    assert sent.refreshes == [200]


async def test_a_401_gets_one_refresh_and_the_streamed_body_is_sent_again(server, sent):
    _auth, client, email = await signed_in(server, sent)
    probe = httpx.post(f"{server.url}/auth/login", json={"email": email, "password": PASSWORD})
    await asyncio.to_thread(pull_old_signing_keys, server)
    await asyncio.to_thread(wait_until_refused, server, probe.json()["access_token"])

    async def streamed():
        yield b'{"keep_current": '
        yield b"true}"

    revoked = await client.post(
        "/auth/revoke", content=streamed(), headers={"Content-Type": "application/json"}
    )

    assert revoked.status_code == 204
    assert sent.to("/auth/revoke") == [401, 204]
    assert sent.refreshes == [200]
    sessions = (await client.get("/auth/sessions")).json()["sessions"]
    assert [s["current"] for s in sessions] == [True]  # keep_current reached the server


async def test_a_refresh_the_server_refuses_signs_out_and_clears_the_storage(server, sent):
    storage = MemoryStorage()
    ticks = Ticks()
    auth, client, _ = await signed_in(server, sent, storage=storage, clock=ticks)
    ended = httpx.post(f"{server.url}/auth/logout", json={"refresh_token": storage.get()})
    assert ended.status_code == 204
    ticks.advance(ACCESS_TTL)

    results = await asyncio.gather(
        *(client.get("/auth/me") for _ in range(4)), return_exceptions=True
    )

    assert all(isinstance(r, SignedOut) for r in results)
    assert sent.refreshes == [401]  # one refusal is enough for every waiting task
    assert storage.get() is None
    assert not auth.signed_in


async def test_a_refresh_refused_for_another_reason_keeps_the_session(limited_server, sent):
    # A refresh limit of one per minute: the second refresh is refused with 429.
    ticks = Ticks()
    storage = MemoryStorage()
    _auth, client, _ = await signed_in(limited_server, sent, storage=storage, clock=ticks)
    ticks.advance(ACCESS_TTL)
    assert (await client.get("/auth/me")).status_code == 200
    kept = storage.get()
    ticks.advance(ACCESS_TTL)

    with pytest.raises(AuthgateError) as refused:
        await client.get("/auth/me")

    assert not isinstance(refused.value, SignedOut)
    assert (refused.value.status, refused.value.code) == (429, "too_many_requests")
    assert storage.get() == kept


async def test_an_async_hook_proves_it_again_and_the_request_goes_once_more(server, sent):
    asked: list[StepUpChallenge] = []

    async def confirm_its_you(challenge: StepUpChallenge) -> dict[str, str]:
        asked.append(challenge)
        return {"password": PASSWORD}

    _, client, _ = await signed_in(server, sent, step_up=confirm_its_you)
    await asyncio.sleep(REAUTH_MAX_AGE + 1.5)
    change = {"current_password": PASSWORD, "new_password": PASSWORD}

    answer = await client.post("/auth/password/change", json=change)
    await client.aclose()

    assert answer.status_code == 204, answer.text
    assert asked == [StepUpChallenge(max_age=REAUTH_MAX_AGE, acr_values=None)]
    assert sent.to("/auth/password/change") == [401, 204]
