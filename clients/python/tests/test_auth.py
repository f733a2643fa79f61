"""``AuthgateAuth`` with a synchronous ``httpx.Client`` against a real authgate process:
sign-in over the body transport, refresh before expiry, one refresh and one retry on a 401,
one refresh shared by concurrent requests, the rotated token kept, sign-out."""

from __future__ import annotations

import stat
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import pytest

from authgate_client import (
    AuthgateAuth,
    AuthgateError,
    FileStorage,
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


def api(server: Server, auth: AuthgateAuth, sent: Sent) -> httpx.Client:
    return httpx.Client(base_url=server.url, auth=auth, event_hooks={"response": [sent.record]})


def signed_in(server: Server, sent: Sent, **options) -> tuple[AuthgateAuth, httpx.Client, str]:
    auth = AuthgateAuth(server.url, **options)
    client = api(server, auth, sent)
    email = new_email()
    auth.register(client, email, PASSWORD)
    return auth, client, email


def test_register_signs_in_over_the_body_transport_and_requests_carry_the_access_token(
    server, sent
):
    storage = MemoryStorage()
    auth = AuthgateAuth(server.url, storage)
    with api(server, auth, sent) as client:
        user = auth.register(client, new_email(), PASSWORD, name="Ada")

        me = [client.get("/auth/me") for _ in range(3)]

        assert user["name"] == "Ada"
        assert auth.signed_in
        assert [r.status_code for r in me] == [200, 200, 200]
        assert me[0].json()["user"]["id"] == user["id"]
        assert sent.refreshes == []  # a fresh token is used as it is
        assert storage.get()
        assert not client.cookies  # no refresh cookie: the token came in the body


def test_the_access_token_goes_to_authgate_and_the_apis_named_and_nowhere_else(server, sent):
    """One httpx client for your API and for a third party: the third party gets no token,
    and a token due for a refresh is not refreshed for it."""
    ticks = Ticks()
    with another_host() as api_host, another_host() as third_party:
        _, client, _ = signed_in(server, sent, api_origins=[api_host.url], clock=ticks)

        assert client.get(f"{api_host.url}/orders").status_code == 200
        ticks.advance(ACCESS_TTL)
        assert client.get(f"{third_party.url}/pixel.gif").status_code == 200

        [bearer] = api_host.authorizations
        assert (bearer or "").startswith("Bearer ")
        assert third_party.authorizations == [None]
        assert sent.refreshes == []
        assert client.get("/auth/me").status_code == 200  # authgate's own: refreshed, sent
        assert sent.refreshes == [200]


def test_an_answer_redirected_to_a_third_party_sets_off_no_refresh_and_no_step_up(server, sent):
    """Your API redirects (an open redirect) to a third party that answers 401 asking for a
    fresh proof: the client must not refresh for it, nor ask the user for a password."""
    asked: list[StepUpChallenge] = []

    def step_up(challenge: StepUpChallenge) -> dict[str, str]:
        asked.append(challenge)
        return {"password": PASSWORD}

    with an_api_redirecting_to_a_challenge() as (api_host, third_party):
        _, client, _ = signed_in(server, sent, api_origins=[api_host.url], step_up=step_up)

        answer = client.get(f"{api_host.url}/go", follow_redirects=True)

        assert answer.status_code == 401
        assert asked == []
        assert sent.refreshes == []
        assert third_party.authorizations == [None]


def test_an_issuer_or_api_origin_that_is_no_http_url_is_refused():
    with pytest.raises(ValueError, match="http"):
        AuthgateAuth("127.0.0.1:8000")
    with pytest.raises(ValueError, match="http"):
        AuthgateAuth("http://127.0.0.1:8000", api_origins=["api.example.com"])


def test_a_token_close_to_its_expiry_is_refreshed_before_the_request(server, sent):
    # The real clock: with a margin of 58 s a 60 s token is due for refresh after 2 s.
    storage = MemoryStorage()
    _auth, client, _ = signed_in(server, sent, storage=storage, refresh_margin=ACCESS_TTL - 2)
    first_refresh_token = storage.get()
    assert client.get("/auth/me").status_code == 200
    time.sleep(2.1)

    answer = client.get("/auth/me")

    assert answer.status_code == 200
    assert sent.calls[-2:] == [("POST", "/auth/refresh", 200), ("GET", "/auth/me", 200)]
    assert sent.to("/auth/me") == [200, 200]  # never a 401
    assert storage.get() not in (None, first_refresh_token)  # the rotated token is kept


def test_a_401_gets_one_refresh_and_the_request_is_sent_again_with_its_body(server, sent):
    _auth, client, email = signed_in(server, sent)
    probe = httpx.post(f"{server.url}/auth/login", json={"email": email, "password": PASSWORD})
    pull_old_signing_keys(server)
    wait_until_refused(server, probe.json()["access_token"])

    def streamed():  # a body that can be read once only, unless the client keeps it
        yield b'{"password": "'
        yield PASSWORD.encode() + b'"}'

    # A POST with a body and no step-up of its own: a password change would need a sign-in
    # within the test server's 2 s, and a slow machine spends that on the key rotation.
    proved = client.post(
        "/auth/reauthenticate",
        content=streamed(),
        headers={"Content-Type": "application/json"},
    )

    assert proved.status_code == 200
    assert sent.to("/auth/reauthenticate") == [401, 200]
    assert sent.refreshes == [200]
    assert client.get("/auth/me").status_code == 200


def test_a_401_that_outlives_the_refresh_is_the_answer(server, sent):
    _auth, client, _ = signed_in(server, sent)

    wrong = client.post(
        "/auth/password/change",
        json={"current_password": "not the password", "new_password": "a new passphrase"},
    )

    assert wrong.status_code == 401
    assert wrong.json()["code"] == "invalid_credentials"
    assert sent.to("/auth/password/change") == [401, 401]  # retried once, then answered
    assert sent.refreshes == [200]


def test_other_refusals_are_answered_without_a_refresh(server, sent):
    _auth, client, _ = signed_in(server, sent)

    forbidden = client.get("/admin/users")
    missing = client.delete("/auth/sessions/no-such-session")

    assert forbidden.status_code == 403
    assert missing.status_code == 404
    assert sent.refreshes == []


def test_concurrent_requests_due_for_a_refresh_share_one(server, sent):
    ticks = Ticks()
    _auth, client, _ = signed_in(server, sent, clock=ticks)
    ticks.advance(ACCESS_TTL)  # every request now finds the token due

    with ThreadPoolExecutor(max_workers=8) as pool:
        answers = list(pool.map(lambda _: client.get("/auth/me"), range(16)))

    assert [a.status_code for a in answers] == [200] * 16
    assert sent.refreshes == [200]


def test_concurrent_requests_refused_with_401_share_one_refresh(server, sent):
    _auth, client, email = signed_in(server, sent)
    probe = httpx.post(f"{server.url}/auth/login", json={"email": email, "password": PASSWORD})
    pull_old_signing_keys(server)
    wait_until_refused(server, probe.json()["access_token"])

    with ThreadPoolExecutor(max_workers=8) as pool:
        answers = list(pool.map(lambda _: client.get("/auth/sessions"), range(8)))

    assert [a.status_code for a in answers] == [200] * 8
    assert sent.refreshes == [200]


def test_a_refresh_the_server_refuses_signs_out_and_clears_the_storage(server, sent):
    storage = MemoryStorage()
    auth, client, _ = signed_in(server, sent, storage=storage)
    # Elsewhere (another process holding the same token, an admin), the session ends.
    ended = httpx.post(f"{server.url}/auth/logout", json={"refresh_token": storage.get()})
    assert ended.status_code == 204

    with pytest.raises(SignedOut) as refused:
        client.get("/auth/me")  # the access token is refused at once, then the refresh

    assert refused.value.code == "invalid_refresh_token"
    assert sent.calls[-2:] == [("GET", "/auth/me", 401), ("POST", "/auth/refresh", 401)]
    assert storage.get() is None
    assert not auth.signed_in
    calls = len(sent.calls)
    with pytest.raises(SignedOut):
        client.get("/auth/me")
    assert len(sent.calls) == calls  # nothing is sent without a session


def test_a_client_that_never_signed_in_sends_nothing(server, sent):
    with api(server, AuthgateAuth(server.url), sent) as client, pytest.raises(SignedOut):
        client.get("/auth/me")
    assert sent.calls == []


def test_wrong_credentials_raise_the_servers_problem_and_sign_nobody_in(server, sent):
    _auth, client, email = signed_in(server, sent)
    other = AuthgateAuth(server.url)

    with pytest.raises(AuthgateError) as wrong:
        other.login(client, email, "not the password")

    assert (wrong.value.status, wrong.value.code) == (401, "invalid_credentials")
    assert not other.signed_in


def test_logout_ends_the_session_on_the_server_and_here(server, sent, tmp_path: Path):
    path = tmp_path / "refresh-token"
    auth, client, _ = signed_in(server, sent, storage=FileStorage(path))
    token = path.read_text()

    auth.logout(client)

    assert not path.exists()
    assert sent.calls[-1] == ("POST", "/auth/logout", 204)
    dead = httpx.post(f"{server.url}/auth/refresh", json={"refresh_token": token})
    assert dead.json()["code"] == "invalid_refresh_token"
    with pytest.raises(SignedOut):
        client.get("/auth/me")
    calls = len(sent.calls)
    auth.logout(client)  # signed out already: nothing to send
    assert len(sent.calls) == calls


def test_a_file_storage_keeps_the_rotated_token_for_the_next_run(server, sent, tmp_path: Path):
    path = tmp_path / "state" / "refresh-token"
    ticks = Ticks()
    _auth, client, email = signed_in(server, sent, storage=FileStorage(path), clock=ticks)
    signed_in_token = path.read_text()
    ticks.advance(ACCESS_TTL)
    assert client.get("/auth/me").status_code == 200
    rotated = path.read_text()

    # The next run of the program: a new client, nothing in memory, the file on disk.
    again = AuthgateAuth(server.url, FileStorage(path))
    with api(server, again, sent) as later:
        me = later.get("/auth/me")

    assert rotated != signed_in_token
    assert me.json()["user"]["email"] == email
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stat.S_IMODE(path.parent.stat().st_mode) == 0o700
    assert path.read_text() not in (signed_in_token, rotated)
    assert sent.refreshes == [200, 200]


def test_a_sensitive_action_past_the_max_age_asks_the_hook_and_goes_once_more(server, sent):
    asked: list[StepUpChallenge] = []

    def confirm_its_you(challenge: StepUpChallenge) -> dict[str, str]:
        asked.append(challenge)
        return {"password": PASSWORD}

    _, client, _ = signed_in(server, sent, step_up=confirm_its_you)
    time.sleep(REAUTH_MAX_AGE + 1.5)
    change = {"current_password": PASSWORD, "new_password": PASSWORD}

    answer = client.post("/auth/password/change", json=change)
    client.close()

    assert answer.status_code == 204, answer.text
    assert asked == [StepUpChallenge(max_age=REAUTH_MAX_AGE, acr_values=None)]
    assert sent.to("/auth/password/change") == [401, 204]
    assert sent.to("/auth/reauthenticate") == [200]


def test_a_declined_step_up_answers_the_401_and_a_wrong_proof_raises(server, sent):
    _, declining, _ = signed_in(server, sent, step_up=lambda challenge: None)
    _, guessing, _ = signed_in(server, sent, step_up=lambda challenge: {"password": "a guess"})
    time.sleep(REAUTH_MAX_AGE + 1.5)
    change = {"current_password": PASSWORD, "new_password": PASSWORD}

    declined = declining.post("/auth/password/change", json=change)
    with pytest.raises(AuthgateError) as wrong:
        guessing.post("/auth/password/change", json=change)
    declining.close()
    guessing.close()

    assert declined.status_code == 401
    assert declined.json()["code"] == "insufficient_user_authentication"
    assert wrong.value.code == "invalid_credentials"


def test_every_sign_in_names_the_same_device_so_the_owner_is_not_told_of_a_new_one(server, sent):
    """Without a cookie jar each sign-in would be a new device to the server, and the owner
    would get a new-device mail at every one."""
    email = new_email()
    first = AuthgateAuth(server.url)
    with api(server, first, sent) as client:
        first.register(client, email, PASSWORD)
        first.login(client, email, PASSWORD)
    again = AuthgateAuth(server.url, device_id=first.device_id)  # the next run, kept
    with api(server, again, sent) as client:
        again.login(client, email, PASSWORD)

    assert sent.devices == [first.device_id] * 3
    assert sent.to("/auth/login") == [200, 200]
    with pytest.raises(ValueError, match="device_id"):
        AuthgateAuth(server.url, device_id="short")
