"""Another service verifying authgate's access tokens: offline against the JWKS of a real
server (key rotation with the real CLI, the cache, the rate-limited refetch), and online
with token introspection where a logout must count at once."""

from __future__ import annotations

import asyncio
import base64
import hmac
import json
import os
import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import httpx
import pytest
from joserfc import jwt
from joserfc.jwk import ECKey

from authgate_client.resource import (
    SESSION_REVOKED,
    AccessTokenVerifier,
    InsufficientAuthentication,
    InvalidToken,
    KeysUnavailable,
    RevocationsUnavailable,
    _Revocations,
)
from support import (
    ACCESS_TTL,
    PASSWORD,
    Server,
    Ticks,
    authgate_cli,
    free_port,
    new_email,
    pull_old_signing_keys,
)

JWKS = "/.well-known/jwks.json"


@dataclass
class Fetches:
    """The JWKS requests a verifier made, through its own httpx client."""

    count: int = 0

    def client(self) -> httpx.Client:
        return httpx.Client(event_hooks={"request": [self.saw]})

    def saw(self, request: httpx.Request) -> None:
        self.count += request.url.path == JWKS


@dataclass
class Session:
    user_id: int
    access_token: str
    refresh_token: str


def sign_up(server: Server) -> Session:
    answer = httpx.post(
        f"{server.url}/auth/register",
        json={"email": new_email(), "password": PASSWORD},
        headers={"X-Auth-Transport": "body"},
    )
    body = answer.json()
    return Session(body["user"]["id"], body["access_token"], body["refresh_token"])


def refreshed(server: Server, session: Session) -> str:
    answer = httpx.post(
        f"{server.url}/auth/refresh",
        json={"refresh_token": session.refresh_token},
        headers={"X-Auth-Transport": "body"},
    )
    session.refresh_token = answer.json()["refresh_token"]
    token: str = answer.json()["access_token"]
    return token


def header(token: str) -> dict:
    encoded = token.split(".")[0]
    return json.loads(base64.urlsafe_b64decode(encoded + "=" * (-len(encoded) % 4)))


def published_kids(server: Server) -> list[str]:
    return [key["kid"] for key in httpx.get(f"{server.url}{JWKS}").json()["keys"]]


def wait_for_kids(server: Server, count: int) -> list[str]:
    """The server re-reads its keys file within a second of a change."""
    deadline = time.monotonic() + 10
    while len(kids := published_kids(server)) != count:
        assert time.monotonic() < deadline, f"the JWKS still lists {kids}"
        time.sleep(0.1)
    return kids


def forged(server: Server, *, kid: str | None = None, **header_fields) -> str:
    """A token with authgate's claims, signed by a key authgate never had."""
    key = ECKey.generate_key("P-256", private=True)
    now = int(time.time())
    claims = {
        "iss": server.url,
        "aud": "authgate",
        "client_id": "authgate",
        "sub": "1",
        "sid": "s",
        "jti": uuid.uuid4().hex,
        "iat": now,
        "exp": now + 60,
    }
    fields = {"alg": "ES256", "typ": "at+jwt", "kid": kid or uuid.uuid4().hex, **header_fields}
    return jwt.encode(fields, claims, key)


def test_an_access_token_verifies_offline_with_its_claims(server):
    session = sign_up(server)
    verifier = AccessTokenVerifier(server.url)

    verified = verifier.verify(session.access_token)

    me = httpx.get(
        f"{server.url}/auth/me", headers={"Authorization": f"Bearer {session.access_token}"}
    )
    assert verified.subject == str(me.json()["user"]["id"]) == str(session.user_id)
    assert verified.role == "user"
    assert verified.client_id == "authgate"
    assert verified.expires_at - verified.issued_at == ACCESS_TTL
    assert verified.session_id == verified.claims["sid"]


def test_the_key_set_is_fetched_once_for_concurrent_requests_and_cached(server):
    fetches = Fetches()
    verifier = AccessTokenVerifier(server.url, http=fetches.client())
    tokens = [sign_up(server).access_token for _ in range(4)]

    with ThreadPoolExecutor(max_workers=8) as pool:
        verified = list(pool.map(verifier.verify, tokens * 4))

    assert len({v.session_id for v in verified}) == 4
    assert fetches.count == 1


def test_a_rotated_key_is_fetched_when_its_first_token_arrives(server):
    ticks, fetches = Ticks(), Fetches()
    verifier = AccessTokenVerifier(server.url, http=fetches.client(), clock=ticks)
    session = sign_up(server)
    old_token = session.access_token
    verifier.verify(old_token)
    before = published_kids(server)

    authgate_cli(server, "keys", "rotate")
    new_kid, *still = wait_for_kids(server, len(before) + 1)
    new_token = refreshed(server, session)
    ticks.advance(30)  # the last fetch is as old as the refetch interval

    verified = verifier.verify(new_token)

    assert header(new_token)["kid"] == new_kid != header(old_token)["kid"]
    assert still == before
    assert verified.subject == str(session.user_id)
    assert fetches.count == 2
    assert verifier.verify(old_token).subject == str(session.user_id)  # still published


def test_a_key_taken_out_of_the_key_set_stops_verifying_when_the_cache_expires(server):
    ticks, fetches = Ticks(), Fetches()
    verifier = AccessTokenVerifier(server.url, http=fetches.client(), clock=ticks, max_age=300)
    old_token = sign_up(server).access_token
    verifier.verify(old_token)

    pull_old_signing_keys(server)
    wait_for_kids(server, 1)
    ticks.advance(299)
    cached = verifier.verify(old_token)  # offline: the cache still holds the key
    ticks.advance(1)

    with pytest.raises(InvalidToken, match="no key"):
        verifier.verify(old_token)
    assert cached.subject
    assert fetches.count == 2
    verifier.verify(sign_up(server).access_token)  # the new key verifies
    assert fetches.count == 2


def test_a_flood_of_unknown_key_ids_fetches_the_key_set_at_most_once_per_interval(server):
    ticks, fetches = Ticks(), Fetches()
    verifier = AccessTokenVerifier(
        server.url, http=fetches.client(), clock=ticks, min_refetch_interval=30
    )
    verifier.verify(sign_up(server).access_token)

    for _ in range(200):
        with pytest.raises(InvalidToken, match="no key"):
            verifier.verify(forged(server))
    ticks.advance(30)
    for _ in range(200):
        with pytest.raises(InvalidToken, match="no key"):
            verifier.verify(forged(server))

    assert fetches.count == 2


@pytest.mark.parametrize(
    ("options", "reason"),
    [
        ({"audience": "another-api"}, "aud"),
        ({"now": lambda: time.time() + ACCESS_TTL + 1}, "expired"),
    ],
)
def test_a_token_for_another_audience_or_past_its_expiry_is_refused(server, options, reason):
    verifier = AccessTokenVerifier(server.url, **options)

    with pytest.raises(InvalidToken, match=reason):
        verifier.verify(sign_up(server).access_token)


def test_a_token_of_another_issuer_is_refused(server):
    verifier = AccessTokenVerifier("https://auth.elsewhere.example", jwks_url=f"{server.url}{JWKS}")

    with pytest.raises(InvalidToken, match="iss"):
        verifier.verify(sign_up(server).access_token)


def b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def tampered(token: str) -> str:
    """The same header and signature over claims that say admin."""
    header_part, payload, signature = token.split(".")
    claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    claims["role"] = "admin"
    return f"{header_part}.{b64(json.dumps(claims).encode())}.{signature}"


def reheaded(token: str, signature: str | None = None, **fields: str) -> str:
    """The same claims under another header: ``alg: none``, HS256 with the public key as
    the HMAC secret (algorithm confusion), …"""
    _, payload, original = token.split(".")
    new_header = b64(json.dumps({**header(token), **fields}).encode())
    return f"{new_header}.{payload}.{original if signature is None else signature}"


def test_bad_tokens_are_refused_and_only_plausible_ones_cost_a_fetch(server):
    fetches = Fetches()
    verifier = AccessTokenVerifier(server.url, http=fetches.client())
    session = sign_up(server)
    token, kid = session.access_token, header(session.access_token)["kid"]
    public_key = json.dumps(httpx.get(f"{server.url}{JWKS}").json()["keys"][0]).encode()
    confused = hmac.new(public_key, token.rsplit(".", 1)[0].encode(), "sha256").digest()
    refused_unseen = [
        session.refresh_token,
        "garbage",
        "a.b.c",
        "x" * 10_000,
        reheaded(token, signature="", alg="none"),
        reheaded(token, signature=b64(confused), alg="HS256"),
        reheaded(token, typ="JWT"),
        reheaded(token, jku=f"{server.url}{JWKS}"),
        reheaded(token, kid=""),
        b64(b"[" * 2500 + b"]" * 2500) + ".e30.x",  # a header nested past the parser's depth
    ]
    for bad in refused_unseen:
        with pytest.raises(InvalidToken):
            verifier.verify(bad)
    assert fetches.count == 0  # none of these could ever verify: nothing is fetched

    for bad in [tampered(token), forged(server, kid=kid), reheaded(token, signature="")]:
        with pytest.raises(InvalidToken):
            verifier.verify(bad)
    assert fetches.count == 1
    assert verifier.verify(token).role == "user"


def test_an_unreachable_issuer_is_keys_unavailable_not_an_invalid_token(server):
    verifier = AccessTokenVerifier(server.url, jwks_url=f"http://127.0.0.1:{free_port()}{JWKS}")

    with pytest.raises(KeysUnavailable):
        verifier.verify(sign_up(server).access_token)


class CuttableTransport(httpx.HTTPTransport):
    """The network between the verifier and authgate, which the test can cut."""

    down = False

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        if self.down:
            raise httpx.ConnectError("the network is cut", request=request)
        return super().handle_request(request)


def test_while_the_issuer_is_down_cached_keys_still_verify(server):
    ticks, network = Ticks(), CuttableTransport()
    verifier = AccessTokenVerifier(server.url, http=httpx.Client(transport=network), clock=ticks)
    token = sign_up(server).access_token
    verifier.verify(token)
    network.down = True
    ticks.advance(3600)  # the cache is old: a fetch is tried, and fails

    assert verifier.verify(token).subject
    with pytest.raises(KeysUnavailable):
        verifier.verify(forged(server))
    network.down = False
    ticks.advance(30)
    with pytest.raises(InvalidToken):
        verifier.verify(forged(server))


async def test_async_verification_shares_one_fetch_between_concurrent_tasks(server):
    calls = Fetches()

    async def saw(request: httpx.Request) -> None:
        calls.saw(request)

    async with httpx.AsyncClient(event_hooks={"request": [saw]}) as http:
        verifier = AccessTokenVerifier(server.url, async_http=http)
        tokens = [sign_up(server).access_token for _ in range(4)]

        verified = await asyncio.gather(*(verifier.averify(t) for t in tokens * 4))

    assert len({v.session_id for v in verified}) == 4
    assert calls.count == 1


def test_introspection_refuses_a_logged_out_sessions_token_that_still_verifies_offline(
    server,
):
    assert server.introspection, "AUTHGATE_TEST_INTROSPECTION names no client"
    session = sign_up(server)
    verifier = AccessTokenVerifier(server.url)

    def introspect(token: str) -> dict:
        answer = httpx.post(
            f"{server.url}/auth/introspect", data={"token": token}, auth=server.introspection
        )
        answer.raise_for_status()
        body: dict = answer.json()
        return body

    before = introspect(session.access_token)
    httpx.post(f"{server.url}/auth/logout", json={"refresh_token": session.refresh_token})
    after = introspect(session.access_token)

    assert before["active"] is True
    assert before["sub"] == str(session.user_id)
    assert before["sid"] == verifier.verify(session.access_token).session_id
    assert after == {"active": False}
    assert verifier.verify(session.access_token).subject  # offline cannot know


def test_a_route_may_ask_for_a_recent_or_a_two_factor_proof(server):
    session = sign_up(server)  # a password sign-in: aal1, just now
    verifier = AccessTokenVerifier(server.url)

    verified = verifier.verify(session.access_token, max_age=60, acr="aal1")
    assert verified.amr == ("pwd",)
    assert verified.acr == "aal1"
    assert verified.auth_time is not None
    assert abs(verified.auth_time - time.time()) < 10

    with pytest.raises(InsufficientAuthentication) as weak:
        verifier.verify(session.access_token, acr="aal2")
    assert weak.value.www_authenticate == (
        'Bearer error="insufficient_user_authentication", acr_values="aal2"'
    )
    # 45 s on (the token lives 60): still valid, but its sign-in older than 30 s.
    later = AccessTokenVerifier(server.url, now=lambda: time.time() + 45)
    with pytest.raises(InsufficientAuthentication) as old:
        later.verify(session.access_token, max_age=30)
    assert old.value.www_authenticate == (
        'Bearer error="insufficient_user_authentication", max_age=30'
    )
    assert isinstance(old.value, InvalidToken)  # a handler that catches only that still refuses


def signals_receiver() -> str:
    """The receiver token of the Shared Signals receiver the test server knows."""
    receiver_token = os.environ.get("AUTHGATE_TEST_SIGNALS", "").partition(":")[2]
    if not receiver_token:
        reason = "AUTHGATE_TEST_SIGNALS names no Shared Signals receiver"
        if os.environ.get("AUTH_TEST_REQUIRE_BACKENDS") == "1":
            pytest.fail(reason)
        pytest.skip(reason)
    return receiver_token


def test_with_signals_a_logged_out_sessions_token_is_refused_within_a_second(server):
    receiver_token = signals_receiver()
    session = sign_up(server)
    with AccessTokenVerifier(server.url, signals_token=receiver_token) as verifier:
        assert verifier.wait_for_signals(10)
        assert verifier.verify(session.access_token).session_id  # live
        logged_out = httpx.post(
            f"{server.url}/auth/logout",
            json={"refresh_token": session.refresh_token},
            headers={"X-Auth-Transport": "body"},
        )
        assert logged_out.status_code == 204
        deadline = time.monotonic() + 1.0
        refused: InvalidToken | None = None
        while refused is None and time.monotonic() < deadline:
            try:
                verifier.verify(session.access_token)
            except InvalidToken as error:
                refused = error
            time.sleep(0.01)
        assert refused is not None, "still accepted a second after the logout"
        assert str(refused) == "the token's session has ended"


def test_a_new_verifier_is_ready_only_once_it_has_read_every_kept_end():
    """A new stream pages through every end authgate keeps, a thousand a poll: until the last
    page is read, a session in an unread one would pass for live (a stale yes)."""
    key = ECKey.generate_key("P-256", parameters={"kid": "k1"}, private=True)
    last_page = threading.Event()

    class FakeAuthgate(BaseHTTPRequestHandler):
        polls = 0

        def log_message(self, *args: object) -> None:
            pass

        def answer(self, body: dict) -> None:
            encoded = json.dumps(body).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(encoded)))
            self.end_headers()
            self.wfile.write(encoded)

        def do_GET(self) -> None:  # the key set
            self.answer({"keys": [key.as_dict(private=False)]})

        def do_POST(self) -> None:
            self.rfile.read(int(self.headers["Content-Length"]))
            if self.path == "/ssf/stream":
                poll = f"{issuer}/ssf/poll/one"
                return self.answer({"stream_id": "one", "delivery": {"endpoint_url": poll}})
            FakeAuthgate.polls += 1
            if FakeAuthgate.polls == 1:
                return self.answer({"sets": {"j1": ended("someone")}, "moreAvailable": True})
            last_page.wait(10)  # held until the test has asked
            self.answer({"sets": {"j2": ended("victim")} if FakeAuthgate.polls == 2 else {}})

    def ended(session_id: str) -> str:
        claims = {
            "iss": issuer,
            "jti": session_id,
            "iat": int(time.time()),
            "events": {SESSION_REVOKED: {}},
            "sub_id": {"format": "complex", "session": {"format": "opaque", "id": session_id}},
        }
        return jwt.encode({"alg": "ES256", "typ": "secevent+jwt", "kid": "k1"}, claims, key)

    fake = ThreadingHTTPServer(("127.0.0.1", 0), FakeAuthgate)
    issuer = f"http://127.0.0.1:{fake.server_address[1]}"
    threading.Thread(target=fake.serve_forever, daemon=True).start()
    now = int(time.time())
    claims: dict[str, object] = {"iss": issuer, "aud": "authgate", "client_id": "authgate"}
    claims |= {"sub": "1", "sid": "victim", "jti": "t", "iat": now - 10, "exp": now + 600}
    token = jwt.encode({"alg": "ES256", "typ": "at+jwt", "kid": "k1"}, claims, key)
    verifier = AccessTokenVerifier(issuer, signals_token="receiver")
    try:
        assert not verifier.wait_for_signals(1.0)  # the first page read, more to come
        with pytest.raises(RevocationsUnavailable):
            verifier.verify(token)
        last_page.set()
        assert verifier.wait_for_signals(5.0)
        with pytest.raises(InvalidToken):  # its session ended: on the page read last
            verifier.verify(token)
    finally:
        last_page.set()
        verifier.close()
        fake.shutdown()


def test_a_verifier_whose_stream_is_silent_cannot_tell_and_says_so(server):
    session = sign_up(server)
    # Not a receiver authgate knows: every poll is refused, so the stream never answers.
    with AccessTokenVerifier(
        server.url, signals_token="no-such-receiver-0123456789abcdefghij", max_silence=1
    ) as verifier:
        assert not verifier.wait_for_signals(1.0)
        with pytest.raises(RevocationsUnavailable):
            verifier.verify(session.access_token)
    plain = AccessTokenVerifier(server.url)
    assert plain.verify(session.access_token).session_id  # without signals: offline as before


def test_a_revocation_signed_with_a_key_not_fetched_yet_is_read_once_it_can_be(server):
    """Just after a key rotation, the stream's SETs are signed with a key this verifier may
    not fetch yet (at most once per interval). Such a SET is not acknowledged and dropped:
    meanwhile the verifier cannot tell, then it reads the SET with the new key set."""
    ticks = Ticks()
    session = sign_up(server)
    with AccessTokenVerifier(
        server.url, signals_token=signals_receiver(), clock=ticks, max_silence=1
    ) as verifier:
        assert verifier.wait_for_signals(10)
        assert verifier.verify(session.access_token).session_id  # the keys are fetched now
        before = published_kids(server)
        authgate_cli(server, "keys", "rotate")
        wait_for_kids(server, len(before) + 1)
        time.sleep(1.2)  # every worker of the server signs with the new key now
        logged_out = httpx.post(
            f"{server.url}/auth/logout",
            json={"refresh_token": session.refresh_token},
            headers={"X-Auth-Transport": "body"},
        )
        assert logged_out.status_code == 204

        time.sleep(2.0)  # the SET arrived; its key may not be fetched for 30 s
        with pytest.raises(RevocationsUnavailable):
            verifier.verify(session.access_token)
        ticks.advance(30)  # the key set may be fetched again
        deadline = time.monotonic() + 5.0
        refused: Exception | None = None
        while time.monotonic() < deadline:
            try:
                verifier.verify(session.access_token)
            except InvalidToken as error:
                refused = error
                break
            except RevocationsUnavailable:
                pass
            time.sleep(0.05)
        assert str(refused) == "the token's session has ended"


def log_out(server: Server, session: Session) -> None:
    logged_out = httpx.post(
        f"{server.url}/auth/logout",
        json={"refresh_token": session.refresh_token},
        headers={"X-Auth-Transport": "body"},
    )
    assert logged_out.status_code == 204


def read_by_the_verifier(server: Server) -> None:
    """Another session's end, so the verifier's stream answers once more (and forgets what
    it no longer needs); within two seconds it has."""
    log_out(server, sign_up(server))
    time.sleep(2.0)


def test_an_ended_session_is_remembered_as_long_as_its_tokens_live(server, monkeypatch):
    """The access-token lifetime is authgate's setting: here 15 minutes, past this verifier's
    least memory (cut to a second). A session it has seen a token of is remembered for that
    token's lifetime: its token is still refused once the least memory has passed."""
    monkeypatch.setattr(_Revocations, "KEEP", 1.0)
    session = sign_up(server)
    with AccessTokenVerifier(server.url, signals_token=signals_receiver()) as verifier:
        assert verifier.wait_for_signals(10)
        assert verifier.verify(session.access_token).session_id  # a token lives 15 min
        log_out(server, session)
        time.sleep(2.0)
        read_by_the_verifier(server)

        with pytest.raises(InvalidToken, match="the token's session has ended"):
            verifier.verify(session.access_token)


def test_a_token_older_than_the_sessions_remembered_cannot_be_told(server, monkeypatch):
    """A token first seen after its session's end may have been forgotten (it lives longer
    than any token seen before): the verifier cannot tell, never a stale yes."""
    monkeypatch.setattr(_Revocations, "KEEP", 1.0)
    session = sign_up(server)
    time.sleep(1.0)  # issued before anything the verifier will forget
    with AccessTokenVerifier(server.url, signals_token=signals_receiver()) as verifier:
        assert verifier.wait_for_signals(10)
        log_out(server, session)
        time.sleep(2.0)
        read_by_the_verifier(server)

        with pytest.raises(RevocationsUnavailable):
            verifier.verify(session.access_token)


def refuses_within(verifier: AccessTokenVerifier, token: str, seconds: float) -> bool:
    """True once the verifier refuses the token because its session ended."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            verifier.verify(token)
        except InvalidToken as error:
            return str(error) == "the token's session has ended"
        time.sleep(0.01)
    return False


def test_processes_that_share_a_receiver_token_each_refuse_an_ended_session(server):
    """A resource server's workers verify with one receiver token: each polls a stream of
    its own, so none is left out when another acknowledges the end first."""
    session = sign_up(server)
    token = signals_receiver()
    with (
        AccessTokenVerifier(server.url, signals_token=token) as first,
        AccessTokenVerifier(server.url, signals_token=token) as second,
        AccessTokenVerifier(server.url, signals_token=token) as third,
    ):
        for verifier in (first, second, third):
            assert verifier.wait_for_signals(10)
            assert verifier.verify(session.access_token).session_id
        log_out(server, session)

        assert [refuses_within(v, session.access_token, 2.0) for v in (first, second, third)] == [
            True
        ] * 3


def test_a_verifier_started_again_refuses_a_session_that_ended_before(server):
    """A resource server restarted: its new verifier learns the sessions that ended before
    it started, though the one before it had read (and acknowledged) them."""
    session = sign_up(server)
    token = signals_receiver()
    with AccessTokenVerifier(server.url, signals_token=token) as before:
        assert before.wait_for_signals(10)
        log_out(server, session)
        assert refuses_within(before, session.access_token, 2.0)

    with AccessTokenVerifier(server.url, signals_token=token) as after:
        assert after.wait_for_signals(10)
        with pytest.raises(InvalidToken, match="the token's session has ended"):
            after.verify(session.access_token)


def test_a_verifier_whose_stream_was_closed_opens_another_and_misses_nothing(server):
    session = sign_up(server)
    token = signals_receiver()
    headers = {"Authorization": f"Bearer {token}"}

    def streams() -> list[str]:
        listed = httpx.get(f"{server.url}/ssf/stream", headers=headers).json()
        return [stream["stream_id"] for stream in listed]

    with AccessTokenVerifier(server.url, signals_token=token) as verifier:
        assert verifier.wait_for_signals(10)
        closed = streams()
        for stream_id in closed:
            answer = httpx.delete(
                f"{server.url}/ssf/stream", params={"stream_id": stream_id}, headers=headers
            )
            assert answer.status_code == 204
        log_out(server, sign_up(server))  # ends the long poll: the next one meets 404
        deadline = time.monotonic() + 5.0
        while not streams() and time.monotonic() < deadline:
            time.sleep(0.05)
        reopened = set(streams())
        assert reopened  # a new one of its own
        assert not reopened & set(closed)

        log_out(server, session)
        assert refuses_within(verifier, session.access_token, 3.0)
