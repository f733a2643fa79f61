"""For resource servers: authgate's access tokens verified offline against its JWKS.

Pinned to what authgate issues (RFC 9068 JWT access tokens): ES256 only, header ``typ``
``at+jwt`` and a ``kid``, no header that points at keys elsewhere (RFC 8725 §3.1, §3.10,
§3.11), and ``iss``, ``aud``, ``exp``, ``iat``, ``sub``, ``client_id``, ``jti`` and ``sid``
required. The key set is cached for ``max_age`` seconds, so a key taken out of the JWKS stops
verifying by then. A token naming a key id not in the cache (a rotation) fetches the key set
again, at most once every ``min_refetch_interval`` seconds whatever the tokens say, so a flood
of made-up key ids cannot turn into a flood of requests to authgate.

Offline verification cannot see a logout by itself: the token stays valid until ``exp``.
Two ways to refuse an ended session's tokens sooner: ask authgate per request
(``POST /auth/introspect``, RFC 7662), or give the verifier a Shared Signals receiver token
(``signals_token``, one of authgate's AUTH_SSF_RECEIVERS): it then polls authgate's stream of
ended sessions in a background thread (RFC 8936, CAEP session-revoked events signed with the
same keys) and refuses their tokens within about a second. Each verifier opens a stream of
its own, so any number of processes may share one receiver token. While it cannot tell (the
stream has not answered for ``max_silence`` seconds) it raises ``RevocationsUnavailable``
(answer 503): never a stale yes.

A route may ask for more than a valid token (RFC 9470 step-up): ``acr="aal2"`` (two factors,
or a passkey) and ``max_age`` (seconds since the user last proved who they are, the token's
``auth_time``). A token short of it raises ``InsufficientAuthentication``, whose
``www_authenticate`` is the challenge to answer with a 401; the client proves it again with
authgate (``POST /auth/reauthenticate``) and retries.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import json
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import httpx
from joserfc import jwt
from joserfc.errors import JoseError
from joserfc.jwk import ECKey

ALGORITHM = "ES256"
TOKEN_TYPES = frozenset({"at+jwt", "application/at+jwt"})  # RFC 9068 §4
_KEY_POINTERS = frozenset({"jku", "x5u", "jwk", "x5c", "crit"})
MAX_TOKEN_LENGTH = 8192
FETCH_TIMEOUT = 5.0


class InvalidToken(Exception):
    """Refuse the request: 401 with ``WWW-Authenticate: Bearer error="invalid_token"``."""


_ACR_RANK = {"aal1": 1, "aal2": 2}


class InsufficientAuthentication(InvalidToken):
    """A valid token whose proof is too old or too weak for this route: answer 401 with
    ``WWW-Authenticate: <www_authenticate>`` (RFC 9470 §3)."""

    def __init__(self, message: str, *, max_age: int | None, acr: str | None) -> None:
        super().__init__(message)
        self.max_age = max_age
        self.acr = acr

    @property
    def www_authenticate(self) -> str:
        challenge = 'Bearer error="insufficient_user_authentication"'
        if self.max_age is not None:
            challenge += f", max_age={self.max_age}"
        if self.acr is not None:
            challenge += f', acr_values="{self.acr}"'
        return challenge


class KeysUnavailable(Exception):
    """authgate's key set could not be fetched and the token's key is not cached: answer
    503, not 401 (the token may well be good)."""


class RevocationsUnavailable(KeysUnavailable):
    """authgate's stream of ended sessions has not answered for ``max_silence`` seconds: the
    token may belong to a session that ended meanwhile. Answer 503, as for the keys."""


SESSION_REVOKED = "https://schemas.openid.net/secevent/caep/event-type/session-revoked"
EVENT_TYPES = frozenset({"secevent+jwt", "application/secevent+jwt"})  # RFC 8417 §2.3
VERIFIED_CACHE_SIZE = 10_000  # tokens verified once, kept until their exp


@dataclass(frozen=True, slots=True)
class VerifiedToken:
    subject: str  # the user id
    session_id: str
    role: str
    client_id: str
    token_id: str
    issued_at: int
    expires_at: int
    claims: Mapping[str, Any]
    auth_time: int | None = None  # when the user last proved who they are
    amr: tuple[str, ...] = ()  # how (RFC 8176): ("pwd",), ("hwk", "user", "mfa"), …
    acr: str | None = None  # "aal1" or "aal2"


class AccessTokenVerifier:
    """``verify`` (sync) and ``averify`` (async) share one key cache; ``issuer`` is
    authgate's ``AUTH_ISSUER``, ``audience`` its ``AUTH_AUDIENCE``."""

    def __init__(
        self,
        issuer: str,
        *,
        audience: str = "authgate",
        jwks_url: str | None = None,
        max_age: float = 300.0,
        min_refetch_interval: float = 30.0,
        leeway: int = 0,
        http: httpx.Client | None = None,
        async_http: httpx.AsyncClient | None = None,
        clock: Callable[[], float] = time.monotonic,
        now: Callable[[], float] = time.time,
        signals_token: str | None = None,
        max_silence: float = 15.0,
    ) -> None:
        """``signals_token``: a receiver token of authgate's AUTH_SSF_RECEIVERS; with it,
        tokens of ended sessions are refused within about a second (a background thread
        polls; ``close`` stops it). ``max_silence``: how long the stream may go unanswered
        before ``RevocationsUnavailable``."""
        self._issuer = issuer
        self._audience = audience
        self._jwks_url = jwks_url or f"{issuer.rstrip('/')}/.well-known/jwks.json"
        self._max_age = max_age
        self._min_interval = min_refetch_interval
        self._leeway = leeway
        self._http = http
        self._async_http = async_http
        self._clock = clock
        self._now = now
        self._keys: dict[str, ECKey] = {}
        self._fetched_at: float | None = None  # the last fetch that succeeded
        self._attempted_at: float | None = None  # the last fetch, successful or not
        self._failed = False
        self._lock = threading.Lock()
        self._async_lock = asyncio.Lock()
        # ES256 verification is the cost of a check: a token verified once is remembered
        # until its exp (its signature cannot change); a key leaving the key set empties it.
        self._verified: dict[str, VerifiedToken] = {}
        self._revocations = (
            None if signals_token is None else _Revocations(self, signals_token, max_silence)
        )

    def close(self) -> None:
        """Stop polling for ended sessions (with ``signals_token``)."""
        if self._revocations is not None:
            self._revocations.stop()

    def __enter__(self) -> AccessTokenVerifier:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()

    def wait_for_signals(self, timeout: float = 10.0) -> bool:
        """Until every session end authgate keeps was read (True), or ``timeout``."""
        return self._revocations is None or self._revocations.ready.wait(timeout)

    def verify(
        self, token: str, *, acr: str | None = None, max_age: int | None = None
    ) -> VerifiedToken:
        """The token's claims; ``acr`` and ``max_age``: what this route asks of the proof."""
        kid = _key_id(token)
        if self._wanted(kid):
            with self._lock:
                if self._due(kid):
                    self._attempted_at = self._clock()
                    try:
                        self._store(self._fetch())
                    except KeysUnavailable:
                        self._failed = True
        return self._sufficient(self._live(self._checked(token, kid)), acr, max_age)

    async def averify(
        self, token: str, *, acr: str | None = None, max_age: int | None = None
    ) -> VerifiedToken:
        kid = _key_id(token)
        if self._wanted(kid):
            async with self._async_lock:
                if self._due(kid):
                    self._attempted_at = self._clock()
                    try:
                        self._store(await self._afetch())
                    except KeysUnavailable:
                        self._failed = True
        return self._sufficient(self._live(self._checked(token, kid)), acr, max_age)

    def _live(self, verified: VerifiedToken) -> VerifiedToken:
        if self._revocations is not None and self._revocations.ended(verified):
            raise InvalidToken("the token's session has ended")
        return verified

    def _sufficient(
        self, verified: VerifiedToken, acr: str | None, max_age: int | None
    ) -> VerifiedToken:
        if acr is not None and acr not in _ACR_RANK:
            raise ValueError(f"acr must be one of {sorted(_ACR_RANK)}")
        if max_age is not None and (
            verified.auth_time is None or self._now() - verified.auth_time > max_age
        ):
            raise InsufficientAuthentication(
                "the user's authentication is too old", max_age=max_age, acr=acr
            )
        if acr is not None and _ACR_RANK.get(verified.acr or "", 0) < _ACR_RANK[acr]:
            raise InsufficientAuthentication(f"the route needs {acr}", max_age=max_age, acr=acr)
        return verified

    def _wanted(self, kid: str) -> bool:
        """The cache is too old or lacks the key. Checked again under the lock: a fetch in
        flight there may bring the key."""
        stale = self._fetched_at is None or self._clock() - self._fetched_at >= self._max_age
        return stale or kid not in self._keys

    def _due(self, kid: str) -> bool:
        """Wanted, and the last try (of any outcome) is old enough: the rate limit."""
        if not self._wanted(kid):
            return False
        attempted = self._attempted_at
        return attempted is None or self._clock() - attempted >= self._min_interval

    def _store(self, keys: dict[str, ECKey]) -> None:
        if self._keys.keys() - keys.keys():
            self._verified = {}  # a key left the key set: what it verified is not trusted
        self._keys = keys
        self._fetched_at = self._clock()
        self._failed = False

    def _checked(self, token: str, kid: str) -> VerifiedToken:
        cached = self._verified.get(token)
        if cached is not None and kid in self._keys:
            if cached.expires_at + self._leeway > self._now():
                return cached
            self._verified.pop(token, None)
        verified = self._verified_now(token, kid)
        if len(self._verified) >= VERIFIED_CACHE_SIZE:
            self._verified.pop(next(iter(self._verified)), None)
        self._verified[token] = verified
        return verified

    def _key_for(self, kid: str) -> ECKey | None:
        """The key of ``kid``, fetching the key set once if it is not known (rate-limited
        as for tokens)."""
        if self._wanted(kid):
            with self._lock:
                if self._due(kid):
                    self._attempted_at = self._clock()
                    try:
                        self._store(self._fetch())
                    except KeysUnavailable:
                        self._failed = True
        return self._keys.get(kid)

    def _verified_now(self, token: str, kid: str) -> VerifiedToken:
        # A failed fetch leaves the cached keys in use: an issuer outage does not refuse
        # tokens whose key is already known.
        key = self._keys.get(kid)
        if key is None:
            if self._failed:
                raise KeysUnavailable(f"no key {kid!r} cached and {self._jwks_url} is unreachable")
            raise InvalidToken(f"no key {kid!r} in the issuer's key set")
        try:
            decoded = jwt.decode(token, key, algorithms=[ALGORITHM])
            self._claims_registry().validate(decoded.claims)
            return _verified(decoded.claims)
        except (JoseError, ValueError, TypeError, KeyError) as e:
            raise InvalidToken(str(e) or type(e).__name__) from e

    def _claims_registry(self) -> jwt.JWTClaimsRegistry:
        required: jwt.ClaimsOption = {"essential": True}
        return jwt.JWTClaimsRegistry(
            now=int(self._now()),
            leeway=self._leeway,
            iss={"essential": True, "value": self._issuer},
            aud={"essential": True, "value": self._audience},
            exp=required,
            iat=required,
            sub=required,
            jti=required,
            client_id=required,
            sid=required,
        )

    def _fetch(self) -> dict[str, ECKey]:
        try:
            if self._http is not None:
                return _es256_keys(self._http.get(self._jwks_url, timeout=FETCH_TIMEOUT))
            with httpx.Client(timeout=FETCH_TIMEOUT) as http:
                return _es256_keys(http.get(self._jwks_url))
        except httpx.HTTPError as e:
            raise KeysUnavailable(f"{self._jwks_url}: {e}") from e

    async def _afetch(self) -> dict[str, ECKey]:
        try:
            if self._async_http is not None:
                answer = await self._async_http.get(self._jwks_url, timeout=FETCH_TIMEOUT)
                return _es256_keys(answer)
            async with httpx.AsyncClient(timeout=FETCH_TIMEOUT) as http:
                return _es256_keys(await http.get(self._jwks_url))
        except httpx.HTTPError as e:
            raise KeysUnavailable(f"{self._jwks_url}: {e}") from e


def _key_id(token: str) -> str:
    """The header's ``kid``, once the header is one of authgate's: a token that could never
    verify is refused before it can cause a fetch."""
    if len(token) > MAX_TOKEN_LENGTH or token.count(".") != 2:
        raise InvalidToken("not a compact JWS")
    encoded = token.split(".", 1)[0]
    try:
        header = json.loads(base64.urlsafe_b64decode(encoded + "=" * (-len(encoded) % 4)))
    except (ValueError, RecursionError) as e:  # bad base64, UTF-8 or JSON; JSON nested deep
        raise InvalidToken("unreadable header") from e
    if not isinstance(header, dict) or header.get("alg") != ALGORITHM:
        raise InvalidToken(f"only {ALGORITHM} is accepted")
    if str(header.get("typ", "")).lower() not in TOKEN_TYPES:
        raise InvalidToken("not an access token (typ at+jwt)")
    if _KEY_POINTERS & header.keys():
        raise InvalidToken("the header points at keys elsewhere")
    kid = header.get("kid")
    if not isinstance(kid, str) or not kid:
        raise InvalidToken("no key id")
    return kid


def _es256_keys(answer: httpx.Response) -> dict[str, ECKey]:
    """The P-256 signing keys of a JWKS; any other entry is skipped (RFC 7517 §5)."""
    answer.raise_for_status()
    try:
        document = answer.json()
    except ValueError as e:
        raise KeysUnavailable(f"{answer.url} is not JSON") from e
    entries = document.get("keys") if isinstance(document, dict) else None
    if not isinstance(entries, list):
        raise KeysUnavailable(f"{answer.url} is not a key set")
    keys: dict[str, ECKey] = {}
    for entry in entries:
        if not (
            isinstance(entry, dict)
            and entry.get("kty") == "EC"
            and entry.get("crv") == "P-256"
            and entry.get("alg", ALGORITHM) == ALGORITHM
            and entry.get("use", "sig") == "sig"
            and isinstance(entry.get("kid"), str)
        ):
            continue
        public = {name: value for name, value in entry.items() if name != "d"}
        try:
            keys[entry["kid"]] = ECKey.import_key(public)
        except (JoseError, ValueError, TypeError):
            continue
    return keys


def _verified(claims: dict[str, Any]) -> VerifiedToken:
    text = ("sub", "sid", "client_id", "jti")
    if not all(isinstance(claims[name], str) for name in text):
        raise ValueError("a claim is not a string")
    role = claims.get("role", "user")
    if not isinstance(role, str):
        raise ValueError("role is not a string")
    auth_time, amr, acr = claims.get("auth_time"), claims.get("amr", []), claims.get("acr")
    if auth_time is not None and not isinstance(auth_time, int):
        raise ValueError("auth_time is not a number")
    if not isinstance(amr, list) or not all(isinstance(value, str) for value in amr):
        raise ValueError("amr is not a list of strings")
    if acr is not None and not isinstance(acr, str):
        raise ValueError("acr is not a string")
    return VerifiedToken(
        subject=claims["sub"],
        session_id=claims["sid"],
        role=role,
        client_id=claims["client_id"],
        token_id=claims["jti"],
        issued_at=int(claims["iat"]),
        expires_at=int(claims["exp"]),
        claims=claims,
        auth_time=auth_time,
        amr=tuple(amr),
        acr=acr,
    )


class _Revocations:
    """The sessions that ended, from authgate's Shared Signals: a daemon thread opens a stream
    of this process's own, polls it (RFC 8936 long polling), verifies each SET with the
    verifier's keys, acknowledges it in the next poll, and remembers the session until any
    token of it has expired: for the longest lifetime (``exp - iat``) of any token it has
    verified, an hour at least. A new stream starts with every end authgate keeps (an access
    token's lifetime), so a process that starts, or starts again, misses none."""

    KEEP = 3600.0  # the least time (seconds) an ended session is remembered
    WAIT = 30.0  # the longest one poll may take (authgate answers within 10 s)

    def __init__(self, verifier: AccessTokenVerifier, token: str, max_silence: float) -> None:
        self._verifier = verifier
        self._streams_url = f"{verifier._issuer.rstrip('/')}/ssf/stream"
        self._poll_url = f"{verifier._issuer.rstrip('/')}/ssf/poll"
        self._headers = {"Authorization": f"Bearer {token}"}
        self._max_silence = max_silence
        self._ended: dict[str, float] = {}  # session id: when its end was read (wall clock)
        self._keep = self.KEEP
        # Every session that ended since this moment is remembered (wall clock, as ``iat``).
        self._forgotten_before = 0.0
        self._answered_at: float | None = None
        self.ready = threading.Event()
        self._stopping = threading.Event()
        self._thread = threading.Thread(target=self._run, name="authgate-signals", daemon=True)
        self._thread.start()

    def ended(self, token: VerifiedToken) -> bool:
        answered = self._answered_at
        if answered is None or time.monotonic() - answered > self._max_silence:
            raise RevocationsUnavailable(f"{self._poll_url} has not answered lately")
        # A session is remembered for as long as any token seen may outlive its end
        # (authgate's access-token lifetime is a setting, up to a day).
        self._keep = max(self._keep, float(token.expires_at - token.issued_at))
        if token.session_id in self._ended:
            return True
        if token.issued_at < self._forgotten_before:
            # Its session may have ended and been forgotten before a token this long-lived
            # was seen: cannot tell, never a stale yes.
            raise RevocationsUnavailable("the token outlives the ended sessions remembered")
        return False

    def stop(self) -> None:
        self._stopping.set()

    def _run(self) -> None:
        stream: _Stream | None = None
        acknowledged: list[str] = []
        caught_up = False  # a stream's first poll answers at once: until then nothing is known
        with httpx.Client(timeout=self.WAIT) as http:
            while not self._stopping.is_set():
                try:
                    if stream is None:
                        stream, acknowledged, caught_up = self._open(http), [], False
                    answer = http.post(
                        stream.poll_url,
                        json={
                            "ack": acknowledged,
                            "maxEvents": 1000,
                            "returnImmediately": not caught_up,
                        },
                        headers=self._headers,
                    )
                    if answer.status_code == 404:
                        # Closed, or gone idle while this process could not poll: a new
                        # stream starts with every end still kept, so none is missed.
                        stream = None
                        self._stopping.wait(0.5)
                        continue
                    answer.raise_for_status()
                    polled = answer.json()
                    sets, caught_up = polled["sets"], not polled.get("moreAvailable", False)
                except (httpx.HTTPError, ValueError, KeyError, TypeError):
                    caught_up = False
                    self._stopping.wait(0.5)  # the stream is down: ``ended`` will say so
                    continue
                acknowledged, unread = [], False
                for jti, event in sets.items():
                    session_id = self._session_of(event)
                    if session_id is _KEY_NOT_YET:
                        # Signed with a key this verifier may not fetch yet (a rotation
                        # moments ago): not acknowledged, so authgate sends it again, and
                        # until it is read the stream counts as unanswered (cannot tell).
                        unread = True
                        continue
                    if isinstance(session_id, str):
                        self._ended[session_id] = time.time()
                    acknowledged.append(jti)
                if unread:
                    caught_up = False
                    self._stopping.wait(0.5)
                    continue
                self._forget_old()
                if not caught_up:
                    # More kept ends wait (a new stream pages through its backlog): until
                    # they are read, an answer could be a stale yes.
                    continue
                self._answered_at = time.monotonic()
                self.ready.set()
            if stream is not None:
                self._close(http, stream)

    def _open(self, http: httpx.Client) -> _Stream:
        """A stream of this process's own (OpenID SSF 1.0 §8.1.1.1): what it acknowledges,
        other processes that share the receiver's token are still sent, and it starts with
        every session end authgate still keeps, those before this process started too."""
        answer = http.post(
            self._streams_url, json={"delivery": {"method": POLL_DELIVERY}}, headers=self._headers
        )
        answer.raise_for_status()
        opened = answer.json()
        stream = _Stream(id=opened["stream_id"], poll_url=opened["delivery"]["endpoint_url"])
        # The receiver's token is sent to authgate's own poll endpoint, never to a URL
        # elsewhere that an answer names.
        if not (isinstance(stream.id, str) and stream.poll_url == f"{self._poll_url}/{stream.id}"):
            raise ValueError(f"{self._streams_url} named a poll endpoint not its own")
        return stream

    def _close(self, http: httpx.Client, stream: _Stream) -> None:
        """Best effort: a stream not closed goes once nobody has polled it for a while."""
        with contextlib.suppress(httpx.HTTPError):
            http.delete(self._streams_url, params={"stream_id": stream.id}, headers=self._headers)

    def _session_of(self, event: str) -> object:
        """The ended session a SET names, once its signature, type and issuer check out; a
        SET that does not is acknowledged and dropped (it cannot be ours); ``_KEY_NOT_YET``
        when its key is not in the key set this verifier may have now."""
        try:
            header = json.loads(_segment(event.split(".", 1)[0]))
            if str(header.get("typ", "")).lower() not in EVENT_TYPES:
                return None
            key = self._verifier._key_for(str(header.get("kid", "")))
            if key is None:
                return _KEY_NOT_YET
            claims = jwt.decode(event, key, algorithms=[ALGORITHM]).claims
            if claims.get("iss") != self._verifier._issuer:
                return None
            if SESSION_REVOKED not in claims.get("events", {}):
                return None
            session = claims["sub_id"]["session"]["id"]
            return session if isinstance(session, str) else None
        except (JoseError, ValueError, TypeError, KeyError, AttributeError):
            return None

    def _forget_old(self) -> None:
        cutoff = time.time() - self._keep
        if self._ended and next(iter(self._ended.values())) < cutoff:
            self._forgotten_before = cutoff
            self._ended = {sid: at for sid, at in self._ended.items() if at >= cutoff}


_KEY_NOT_YET = object()
POLL_DELIVERY = "urn:ietf:rfc:8936"


@dataclass(frozen=True, slots=True)
class _Stream:
    id: str
    poll_url: str


def _segment(encoded: str) -> bytes:
    return base64.urlsafe_b64decode(encoded + "=" * (-len(encoded) % 4))
