"""A fake OpenID Connect provider: a real HTTP server on 127.0.0.1 (no mocks, no network).

    with FakeOidcProvider() as idp:         # or: idp = FakeOidcProvider(); ...; idp.close()
        provider = OidcProvider(
            client, name="google", discovery_url=idp.discovery_url,
            client_id=idp.client_id, client_secret=idp.client_secret,
            redirect_uri="https://app.example.test/auth/google/callback", clock=...,
        )
        idp.profile = FakeProfile(sub="42", email="ada@example.test", name="Ada")
        url = await provider.authorization_url(state=s, nonce=n, code_challenge=s256(v))
        answer = await client.get(url)      # 302 to redirect_uri?code=…&state=…
        code = parse_qs(urlsplit(answer.headers["location"]).query)["code"][0]
        profile = await provider.complete(code=code, code_verifier=v, nonce=n)

Endpoints (``idp.issuer`` is the base URL, ``http://127.0.0.1:<port>``):

- ``GET /.well-known/openid-configuration`` (``idp.discovery_url``): the discovery document,
  plus whatever ``idp.discovery_overrides`` holds.
- ``GET /authorize``: checks ``client_id`` and ``redirect_uri`` (400 page, no redirect, when
  wrong), then ``response_type=code``, ``openid`` in ``scope``, ``state``, ``nonce``,
  ``code_challenge`` and ``code_challenge_method=S256`` (302 with ``error=invalid_request``
  when wrong). It remembers them with ``idp.profile`` under a new single-use code and
  answers 302 to ``redirect_uri?code=…&state=…``.
- ``POST /token``: client authentication (``client_secret_post`` or ``_basic``; else 401
  ``invalid_client``), ``grant_type=authorization_code``, a known unused ``code``, the same
  ``redirect_uri`` and ``BASE64URL(SHA256(code_verifier)) == code_challenge``, else 400
  ``invalid_grant``. Answers ``access_token`` and an ``id_token`` signed with the current
  key: ``iss``, ``aud``, ``azp``, ``sub``, ``email``, ``email_verified``, ``name``,
  ``nonce``, ``iat``, ``exp`` (``iat`` + 3600; ``email*``/``name`` only when not None).
- ``GET /jwks``: the public keys (only the current one after ``rotate_keys()``).

Configuration: plain attributes, read when a request arrives; set them between steps.

- ``profile``: who signs in at the next ``/authorize`` (``FakeProfile``). Its
  ``email_verified`` may be a string (``"true"``) to imitate providers that send strings.
- ``authorize_error = "access_denied"``: ``/authorize`` redirects with ``error=…&state=…``.
- ``claims``: overrides merged into the ID tokens issued from now on; ``OMIT`` removes one.
  Wrong nonce ``{"nonce": "other"}``, wrong audience ``{"aud": "someone-else"}``, wrong
  issuer ``{"iss": "https://evil.example"}``, expired ``{"exp": int(time.time()) - 3600}``,
  foreign party ``{"azp": "other-client"}``, no subject ``{"sub": OMIT}``.
- ``token_overrides``: the same for the token endpoint's JSON answer, e.g.
  ``{"id_token": OMIT}``.
- ``header``: overrides of the JWS header, e.g. ``{"kid": "unknown"}`` (a key the JWKS
  never had; the token is still signed with the current key).
- ``forge = "HS256"`` (HMAC keyed with the client secret) or ``"none"`` (no signature):
  ID tokens are built by hand with that ``alg`` instead of being signed with the key.
- ``rotate_keys(keep_old=False)``: a new key with a new ``kid`` signs from now on; the old
  one is no longer published unless ``keep_old``.
- ``down["token" | "jwks" | "discovery" | "authorize"] = mode``: ``"503"`` (HTML 503),
  ``"hang"`` (answers 503 only after ``hang_seconds``, or at ``close()``) or ``"garbage"``
  (200 with an HTML page). ``down.clear()`` brings everything back.
- ``now``: the provider's clock for ``iat``/``exp`` (default ``time.time``).
- ``discovery_overrides``: merged into the discovery document (e.g. an
  ``authorization_endpoint`` with its own query, or another ``issuer``).

Constructor: ``FakeOidcProvider(client_id=…, client_secret=…, redirect_uri=None,
algorithm="RS256" | "ES256", hang_seconds=5.0)``; ``redirect_uri`` set means only that
exact URI is accepted. Also readable: ``client_id``, ``client_secret``, ``kid`` (the
current signing key), ``authorization_endpoint``, ``token_endpoint``, ``jwks_uri``.

Observation: ``hits`` counts requests per endpoint (``"discovery"``, ``"authorize"``,
``"token"``, ``"jwks"``), including those ``down`` refused; ``authorizations`` and
``token_requests`` keep the query/form of each ``/authorize`` and ``/token`` request.
``s256(verifier)`` computes a PKCE S256 challenge.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import secrets
import socketserver
import threading
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Any, Literal
from urllib.parse import parse_qs, urlencode, urlsplit

from joserfc import jwt
from joserfc.jwk import ECKey, Key, KeyParameters, KeySet, RSAKey

Endpoint = Literal["discovery", "authorize", "token", "jwks"]
Outage = Literal["503", "hang", "garbage"]
Algorithm = Literal["RS256", "ES256"]

WELL_KNOWN = "/.well-known/openid-configuration"
_PATHS: dict[str, Endpoint] = {
    WELL_KNOWN: "discovery",
    "/authorize": "authorize",
    "/token": "token",
    "/jwks": "jwks",
}

# (status, headers, body)
_Answer = tuple[int, dict[str, str], bytes]


class _Omit:
    def __repr__(self) -> str:
        return "OMIT"


OMIT: Any = _Omit()
"""A value for ``FakeOidcProvider.claims``: leave that claim out of the ID token."""


@dataclass(frozen=True, slots=True)
class FakeProfile:
    sub: str = "110169484474386276334"
    email: str | None = "ada@example.test"
    email_verified: bool | str = True
    name: str | None = "Ada Lovelace"


@dataclass(slots=True)
class _Grant:
    client_id: str
    redirect_uri: str
    scope: str
    nonce: str
    code_challenge: str
    profile: FakeProfile
    auth_time: int | None = None  # said when the sign-in asked for max_age
    used: bool = False


def s256(verifier: str) -> str:
    """The PKCE S256 code challenge of ``verifier`` (RFC 7636 §4.2)."""
    digest = hashlib.sha256(verifier.encode("ascii")).digest()
    return _b64(digest)


class FakeOidcProvider:
    def __init__(
        self,
        *,
        client_id: str = "authgate-test-client.apps.example.test",
        client_secret: str = "authgate-test-client-secret",
        redirect_uri: str | None = None,
        algorithm: Algorithm = "RS256",
        hang_seconds: float = 5.0,
    ) -> None:
        """``redirect_uri``: when set, the only redirect URI accepted (exact match);
        otherwise any. ``algorithm``: how the provider's keys sign ID tokens."""
        self.client_id = client_id
        self.client_secret = client_secret
        self.redirect_uri = redirect_uri
        self.algorithm: Algorithm = algorithm
        self.hang_seconds = hang_seconds
        self.profile = FakeProfile()
        self.authorize_error: str | None = None
        self.claims: dict[str, Any] = {}
        self.header: dict[str, Any] = {}
        self.forge: Literal["HS256", "none"] | None = None
        self.down: dict[Endpoint, Outage] = {}
        self.discovery_overrides: dict[str, Any] = {}
        self.token_overrides: dict[str, Any] = {}
        self.now: Callable[[], float] = time.time
        # When the user last signed in at the provider (None: not yet). A sign-in asked
        # with max_age signs them in again if that is older, and says when in auth_time.
        self.signed_in_at: float | None = None
        self.hits: Counter[Endpoint] = Counter()
        self.authorizations: list[dict[str, str]] = []
        self.token_requests: list[dict[str, str]] = []
        self._grants: dict[str, _Grant] = {}
        self._generated = 0
        self._keys: list[Key] = [self._new_key()]
        self._lock = threading.Lock()
        self._closing = threading.Event()
        self._server = _Server(self)
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.01}, daemon=True
        )
        self._thread.start()
        host, port = self._server.server_address[:2]
        self.issuer = f"http://{host!s}:{port}"
        self.discovery_url = self.issuer + WELL_KNOWN
        self.authorization_endpoint = self.issuer + "/authorize"
        self.token_endpoint = self.issuer + "/token"
        self.jwks_uri = self.issuer + "/jwks"

    # -- control -------------------------------------------------------------------------

    @property
    def kid(self) -> str:
        """The ``kid`` of the key that signs ID tokens now."""
        return str(self._keys[-1].kid)

    def rotate_keys(self, *, keep_old: bool = False) -> str:
        """Sign with a new key from now on; publish the old one only if ``keep_old``.
        Returns the new ``kid``."""
        with self._lock:
            key = self._new_key()
            self._keys = [*self._keys, key] if keep_old else [key]
        return str(key.kid)

    def close(self) -> None:
        self._closing.set()  # wakes "hang" handlers so nothing outlives the fake
        self._server.shutdown()
        self._server.server_close()
        self._thread.join()

    def __enter__(self) -> FakeOidcProvider:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    # -- endpoints (called from the server's threads) -------------------------------------

    def answer(
        self, endpoint: Endpoint, query: dict[str, str], form: dict[str, str], auth: str | None
    ) -> _Answer:
        with self._lock:
            self.hits[endpoint] += 1
        outage = self.down.get(endpoint)
        if outage == "hang":
            self._closing.wait(self.hang_seconds)
        if outage in ("503", "hang"):
            return (
                503,
                {"Content-Type": "text/html"},
                b"<html><body>503 Service Unavailable</body></html>",
            )
        if outage == "garbage":
            return 200, {"Content-Type": "text/html"}, b"<html><body>Sign in - Portal</body></html>"
        match endpoint:
            case "discovery":
                return _json(200, self._discovery())
            case "jwks":
                with self._lock:
                    keys = KeySet(list(self._keys))
                return _json(200, keys.as_dict(private=False))
            case "authorize":
                return self._authorize(query)
            case "token":
                return self._token(form, auth)

    def _discovery(self) -> dict[str, Any]:
        return {
            "issuer": self.issuer,
            "authorization_endpoint": self.authorization_endpoint,
            "token_endpoint": self.token_endpoint,
            "jwks_uri": self.jwks_uri,
            "response_types_supported": ["code"],
            "subject_types_supported": ["public"],
            "id_token_signing_alg_values_supported": [self.algorithm],
            "scopes_supported": ["openid", "email", "profile"],
            "token_endpoint_auth_methods_supported": ["client_secret_post", "client_secret_basic"],
            "code_challenge_methods_supported": ["S256"],
            "grant_types_supported": ["authorization_code"],
            **self.discovery_overrides,
        }

    def _authorize(self, query: dict[str, str]) -> _Answer:
        with self._lock:
            self.authorizations.append(query)
        redirect_uri = query.get("redirect_uri", "")
        # RFC 6749 §4.1.2.1: never redirect to an unverified redirect URI.
        if query.get("client_id") != self.client_id:
            return 400, {"Content-Type": "text/plain"}, b"invalid_client"
        if not redirect_uri or (
            self.redirect_uri is not None and redirect_uri != self.redirect_uri
        ):
            return 400, {"Content-Type": "text/plain"}, b"redirect_uri_mismatch"
        state = query.get("state", "")
        if self.authorize_error is not None:
            return _redirect(redirect_uri, {"error": self.authorize_error, "state": state})
        problem = _authorize_problem(query)
        if problem is not None:
            return _redirect(
                redirect_uri,
                {"error": "invalid_request", "error_description": problem, "state": state},
            )
        code = secrets.token_urlsafe(24)
        now = self.now()
        with self._lock:
            max_age = query.get("max_age")
            if self.signed_in_at is None or (
                max_age is not None and now - self.signed_in_at > int(max_age)
            ):
                self.signed_in_at = now  # the user authenticates here again
            self._grants[code] = _Grant(
                client_id=query["client_id"],
                redirect_uri=redirect_uri,
                scope=query["scope"],
                nonce=query["nonce"],
                code_challenge=query["code_challenge"],
                profile=self.profile,
                auth_time=None if max_age is None else int(self.signed_in_at),
            )
        return _redirect(redirect_uri, {"code": code, "state": state})

    def _token(self, form: dict[str, str], auth: str | None) -> _Answer:
        with self._lock:
            self.token_requests.append(form)
        client_id, client_secret = form.get("client_id"), form.get("client_secret")
        if auth is not None and auth.startswith("Basic "):
            try:
                decoded = base64.b64decode(auth.removeprefix("Basic ")).decode()
            except ValueError:
                decoded = ":"
            client_id, _, client_secret = decoded.partition(":")
        if client_id != self.client_id or not hmac.compare_digest(
            (client_secret or "").encode(), self.client_secret.encode()
        ):
            return _json(401, {"error": "invalid_client", "error_description": "Unauthorized"})
        if form.get("grant_type") != "authorization_code":
            return _json(400, {"error": "unsupported_grant_type"})
        with self._lock:
            grant = self._grants.get(form.get("code", ""))
            fresh = grant is not None and not grant.used
            if grant is not None:
                grant.used = True  # single use, even when this exchange fails
        if grant is None or not fresh:
            return _invalid_grant("Bad Request")
        if form.get("redirect_uri") != grant.redirect_uri or grant.client_id != client_id:
            return _invalid_grant("Bad Request")
        verifier = form.get("code_verifier")
        if not verifier or not hmac.compare_digest(s256(verifier), grant.code_challenge):
            return _invalid_grant("Invalid code verifier.")
        body = {
            "access_token": secrets.token_urlsafe(32),
            "expires_in": 3599,
            "token_type": "Bearer",
            "scope": grant.scope,
            "id_token": self._id_token(grant),
        }
        return _json(200, _merge(body, self.token_overrides), {"Cache-Control": "no-store"})

    def _id_token(self, grant: _Grant) -> str:
        now = int(self.now())
        profile = grant.profile
        claims: dict[str, Any] = {
            "iss": self.issuer,
            "azp": self.client_id,
            "aud": self.client_id,
            "sub": profile.sub,
            "iat": now,
            "exp": now + 3600,
            "nonce": grant.nonce,
        }
        if profile.email is not None:
            claims["email"] = profile.email
            claims["email_verified"] = profile.email_verified
        if profile.name is not None:
            claims["name"] = profile.name
        if grant.auth_time is not None:
            claims["auth_time"] = grant.auth_time  # OpenID Connect Core §3.1.2.1
        claims = _merge(claims, self.claims)
        with self._lock:
            key = self._keys[-1]
        header: dict[str, Any] = {"alg": self.algorithm, "kid": key.kid, **self.header}
        if self.forge is not None:
            return self._forged(header, claims)
        return jwt.encode(header, claims, key, algorithms=[str(header["alg"])])

    def _forged(self, header: dict[str, Any], claims: dict[str, Any]) -> str:
        header = {**header, "alg": self.forge, "typ": "JWT"}
        signing_input = ".".join(_b64(json.dumps(part).encode()) for part in (header, claims))
        if self.forge == "none":
            return signing_input + "."
        mac = hmac.new(self.client_secret.encode(), signing_input.encode(), hashlib.sha256)
        return signing_input + "." + _b64(mac.digest())

    def _new_key(self) -> Key:
        self._generated += 1
        return _signing_key(self.algorithm, self._generated)


# Generating an RSA key takes tens of milliseconds, and importing one validates it at
# about the same cost: fakes share key pairs (the n-th key of every fake is the same
# pair), each wrapped with a fresh kid.
_KEY_PAIRS: dict[tuple[str, int], Key] = {}
_KEY_PAIRS_LOCK = threading.Lock()


def _signing_key(algorithm: Algorithm, number: int) -> Key:
    parameters: KeyParameters = {"kid": secrets.token_hex(8), "alg": algorithm, "use": "sig"}
    with _KEY_PAIRS_LOCK:
        pair = _KEY_PAIRS.get((algorithm, number))
        if pair is None:
            pair = ECKey.generate_key("P-256") if algorithm == "ES256" else RSAKey.generate_key()
            _KEY_PAIRS[(algorithm, number)] = pair
    if isinstance(pair, ECKey):
        return ECKey(pair.raw_value, pair.raw_value, parameters)
    assert isinstance(pair, RSAKey)
    return RSAKey(pair.raw_value, pair.raw_value, parameters)


def _authorize_problem(query: dict[str, str]) -> str | None:
    if query.get("response_type") != "code":
        return "response_type must be code"
    if "openid" not in query.get("scope", "").split():
        return "scope must include openid"
    for required in ("state", "nonce", "code_challenge"):
        if not query.get(required):
            return f"{required} is required"
    if query.get("code_challenge_method") != "S256":
        return "code_challenge_method must be S256"
    if not query.get("max_age", "0").isdigit():
        return "max_age must be a number of seconds"
    return None


def _merge(base: dict[str, Any], overrides: dict[str, Any]) -> dict[str, Any]:
    merged = {**base, **overrides}
    return {name: value for name, value in merged.items() if value is not OMIT}


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _json(status: int, body: object, headers: dict[str, str] | None = None) -> _Answer:
    return (
        status,
        {"Content-Type": "application/json", **(headers or {})},
        json.dumps(body).encode(),
    )


def _invalid_grant(description: str) -> _Answer:
    return _json(400, {"error": "invalid_grant", "error_description": description})


def _redirect(redirect_uri: str, params: dict[str, str]) -> _Answer:
    separator = "&" if urlsplit(redirect_uri).query else "?"
    return 302, {"Location": redirect_uri + separator + urlencode(params)}, b""


def _single(raw: str) -> dict[str, str] | None:
    """Parse a query or form; None when a parameter is repeated (RFC 6749 §3.1)."""
    fields = parse_qs(raw, keep_blank_values=True)
    if any(len(values) > 1 for values in fields.values()):
        return None
    return {name: values[0] for name, values in fields.items()}


class _Server(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, fake: FakeOidcProvider) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.fake = fake

    def server_bind(self) -> None:
        # HTTPServer.server_bind asks socket.getfqdn(), a reverse DNS lookup that can take
        # a while; the name is never used here.
        socketserver.TCPServer.server_bind(self)
        host, port = self.server_address[:2]
        self.server_name, self.server_port = str(host), int(port)


class _Handler(BaseHTTPRequestHandler):
    server: _Server

    def do_GET(self) -> None:
        parts = urlsplit(self.path)
        endpoint = _PATHS.get(parts.path)
        if endpoint not in ("discovery", "authorize", "jwks"):
            self._reply((404, {"Content-Type": "text/plain"}, b"not found"))
            return
        query = _single(parts.query)
        if query is None:
            self._reply((400, {"Content-Type": "text/plain"}, b"repeated parameter"))
            return
        self._reply(self.server.fake.answer(endpoint, query, {}, None))

    def do_POST(self) -> None:
        raw = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        if _PATHS.get(urlsplit(self.path).path) != "token":
            self._reply((404, {"Content-Type": "text/plain"}, b"not found"))
            return
        form = _single(raw.decode("utf-8", "replace"))
        if form is None:
            self._reply(_json(400, {"error": "invalid_request"}))
            return
        auth = self.headers.get("Authorization")
        self._reply(self.server.fake.answer("token", {}, form, auth))

    def _reply(self, answer: _Answer) -> None:
        status, headers, body = answer
        try:
            self.send_response(status)
            for name, value in headers.items():
                self.send_header(name, value)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)
        except OSError:
            pass  # the client gave up ("hang"): nothing left to tell it

    def log_message(self, format: str, *args: object) -> None:
        pass
