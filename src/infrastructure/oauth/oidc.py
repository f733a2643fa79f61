"""OpenID Connect sign-in: the authorization code flow with PKCE, for any provider that
publishes a discovery document (Google is a preset).

Decisions follow OpenID Connect Core 1.0 (§3.1.3.7, ID token validation), OpenID Connect
Discovery 1.0 and RFC 9700 (OAuth 2.0 Security Best Current Practice). The ID token comes
straight from the token endpoint, yet it is still fully verified (signature, ``iss``,
``aud``, ``azp``, ``exp``, ``iat``, ``nonce``): the nonce check is what ties it to the
browser that started the sign-in.

Every failure becomes one of two domain errors, raised ``from`` the driver error:
``IdentityProviderError`` (the provider refused the code or the ID token is not
acceptable; its message never says why, the log does) and ``IdentityProviderUnavailable``
(timeouts, transport errors, 5xx, answers that are not the JSON we expect).
"""

from __future__ import annotations

import asyncio
import hmac
import logging
import re
from collections.abc import Callable, Collection
from dataclasses import dataclass
from datetime import datetime
from typing import Any, NoReturn, cast
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

import httpx
from joserfc import jws, jwt
from joserfc.errors import InvalidKeyIdError, JoseError
from joserfc.jwk import Key, KeySet, KeySetSerialization

from domain.errors import IdentityProviderError, IdentityProviderUnavailable
from domain.ports.identity import ExternalProfile

# Asymmetric algorithms only. "none" and HS* are never accepted: an HS* token would be
# checked with a secret shared with the client, and "none" carries no signature at all
# (OpenID Connect Core §3.1.3.7 steps 6-8; RFC 8725 §3.1).
ALLOWED_ALGORITHMS: tuple[str, ...] = ("RS256", "ES256")

INVALID_ID_TOKEN = "invalid_id_token"
_WELL_KNOWN = "/.well-known/openid-configuration"
_LOOPBACK_HOSTS = frozenset({"127.0.0.1", "::1", "localhost"})
# RFC 6749 §5.2: the "error" value is drawn from %x20-21 / %x23-5B / %x5D-7E.
_OAUTH_ERROR = re.compile(r"[\x20\x21\x23-\x5b\x5d-\x7e]{1,128}")
_JSON = {"Accept": "application/json"}

_log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class _Discovery:
    issuer: str
    authorization_endpoint: str
    token_endpoint: str
    jwks_uri: str


class OidcProvider:
    """An ``IdentityProvider`` for one OpenID Connect provider.

    ``issuers`` are the accepted spellings of the provider's ``iss`` (default: the
    discovery document's ``issuer``). Whatever spelling a token uses, the returned
    profile carries the discovery document's ``issuer``, so that (issuer, subject) is a
    stable identity: Google sends either ``https://accounts.google.com`` or
    ``accounts.google.com`` for the same account.

    ``clock`` returns the current time as an aware UTC datetime; it decides ``exp`` and
    ``iat``, with ``leeway`` seconds of tolerated clock skew.

    The discovery document is fetched on first use and kept (a failed fetch is not kept).
    The JWKS is kept too and fetched again, once per ID token, when a token names a key
    it does not hold (the provider rotated its keys).
    """

    def __init__(
        self,
        client: httpx.AsyncClient,
        *,
        name: str,
        discovery_url: str,
        client_id: str,
        client_secret: str,
        redirect_uri: str,
        scope: str = "openid email profile",
        issuers: Collection[str] | None = None,
        clock: Callable[[], datetime],
        timeout: float = 10.0,
        leeway: int = 60,
        logger: logging.Logger | None = None,
    ) -> None:
        if "openid" not in scope.split():
            raise ValueError("an OpenID Connect scope must include 'openid'")
        self.name = name
        self._client = client
        self._discovery_url = _require_tls(discovery_url, "discovery_url")
        self._client_id = client_id
        self._client_secret = client_secret
        self._redirect_uri = redirect_uri
        self._scope = scope
        self._issuers = frozenset(issuers) if issuers is not None else None
        self._clock = clock
        self._timeout = timeout
        self._leeway = leeway
        self._log = logger or _log
        self._discovery: _Discovery | None = None
        self._discovery_lock = asyncio.Lock()
        self._keys: KeySet | None = None
        self._keys_lock = asyncio.Lock()

    async def authorization_url(self, *, state: str, nonce: str, code_challenge: str) -> str:
        discovery = await self._discover()
        ours = {
            "response_type": "code",
            "scope": self._scope,
            "client_id": self._client_id,
            # RFC 9700 §2.1: the exact registered redirect URI, compared verbatim.
            "redirect_uri": self._redirect_uri,
            "state": state,
            "nonce": nonce,
            # RFC 9700 §2.1.1: PKCE with S256, never "plain".
            "code_challenge": code_challenge,
            "code_challenge_method": "S256",
        }
        parts = urlsplit(discovery.authorization_endpoint)
        kept = [
            (key, value)
            for key, value in parse_qsl(parts.query, keep_blank_values=True)
            if key not in ours
        ]
        query = urlencode([*kept, *ours.items()])
        return urlunsplit(parts._replace(query=query))

    async def complete(self, *, code: str, code_verifier: str, nonce: str) -> ExternalProfile:
        discovery = await self._discover()
        id_token = await self._exchange(discovery, code=code, code_verifier=code_verifier)
        claims = await self._verify(discovery, id_token, nonce=nonce)
        return self._profile(discovery, claims)

    # -- discovery -------------------------------------------------------------------

    async def _discover(self) -> _Discovery:
        if self._discovery is not None:
            return self._discovery
        async with self._discovery_lock:
            if self._discovery is None:
                self._discovery = await self._fetch_discovery()
            return self._discovery

    async def _fetch_discovery(self) -> _Discovery:
        response = await self._get("discovery document", self._discovery_url)
        try:
            body = response.json()
            if not isinstance(body, dict):
                raise ValueError("not a JSON object")
            discovery = _Discovery(
                issuer=_string(body, "issuer"),
                authorization_endpoint=_require_tls(
                    _string(body, "authorization_endpoint"), "authorization_endpoint"
                ),
                token_endpoint=_require_tls(_string(body, "token_endpoint"), "token_endpoint"),
                jwks_uri=_require_tls(_string(body, "jwks_uri"), "jwks_uri"),
            )
        except ValueError as exc:
            self._log.warning("%s discovery document rejected: %s", self.name, exc)
            raise IdentityProviderUnavailable() from exc
        # OpenID Connect Discovery §4.3: the issuer must be the URL the document was
        # fetched under, or the document must not be used (an impersonation guard).
        if self._discovery_url.endswith(_WELL_KNOWN) and (
            discovery.issuer.rstrip("/") + _WELL_KNOWN != self._discovery_url
        ):
            self._log.warning(
                "%s discovery document names issuer %r, not the one at %s",
                self.name,
                discovery.issuer,
                self._discovery_url,
            )
            raise IdentityProviderUnavailable()
        return discovery

    # -- code exchange -----------------------------------------------------------------

    async def _exchange(self, discovery: _Discovery, *, code: str, code_verifier: str) -> str:
        form = {
            "grant_type": "authorization_code",
            "code": code,
            "redirect_uri": self._redirect_uri,
            "client_id": self._client_id,
            "client_secret": self._client_secret,
            # RFC 9700 §2.1.1: the PKCE verifier binds the code to the session that asked.
            "code_verifier": code_verifier,
        }
        try:
            response = await self._client.post(
                discovery.token_endpoint, data=form, headers=_JSON, timeout=self._timeout
            )
        except httpx.HTTPError as exc:
            self._log.warning("%s token endpoint unreachable: %s", self.name, _describe(exc))
            raise IdentityProviderUnavailable() from exc
        if response.is_server_error:
            self._fail_status("token endpoint", response)
        try:
            body: Any = response.json()
        except ValueError as exc:
            self._log.warning(
                "%s token endpoint answered %s, not JSON", self.name, response.status_code
            )
            raise IdentityProviderUnavailable() from exc
        if response.is_client_error:
            error = body.get("error") if isinstance(body, dict) else None
            if isinstance(error, str) and _OAUTH_ERROR.fullmatch(error):
                # invalid_client means our credentials are wrong: an operator's problem.
                level = logging.WARNING if error == "invalid_client" else logging.INFO
                self._log.log(level, "%s refused the code: %s", self.name, error)
                raise IdentityProviderError(error)
        if not response.is_success or not isinstance(body, dict):
            self._fail_status("token endpoint", response)
        id_token = body.get("id_token")
        if not isinstance(id_token, str):
            self._log.warning("%s token response carries no id_token", self.name)
            raise IdentityProviderError(INVALID_ID_TOKEN)
        return id_token

    # -- ID token verification (OpenID Connect Core §3.1.3.7) ---------------------------

    async def _verify(self, discovery: _Discovery, id_token: str, *, nonce: str) -> dict[str, Any]:
        try:
            header = jws.extract_compact(id_token.encode()).headers()
        except (JoseError, ValueError) as exc:
            self._reject("not a compact JWS", exc)
        alg = header.get("alg")
        if alg not in ALLOWED_ALGORITHMS:
            # Steps 6-8: decided before any key is looked up; "none" and HS* never pass.
            self._reject(f"algorithm {alg!r} is not allowed")
        kid = header.get("kid")
        if kid is not None and not isinstance(kid, str):
            self._reject("kid is not a string")
        key = await self._signing_key(discovery, kid, alg)
        registry = jwt.JWTClaimsRegistry(
            now=int(self._clock().timestamp()),
            leeway=self._leeway,
            # Step 2: iss must be the provider's issuer.
            iss={"essential": True, "values": sorted(self._issuers or {discovery.issuer})},
            # Step 3: aud must contain our client_id.
            aud={"essential": True, "value": self._client_id},
            # Steps 9-10: exp in the future, iat present and not in the future (leeway).
            exp={"essential": True},
            iat={"essential": True},
            sub={"essential": True},
        )
        try:
            token = jwt.decode(id_token, key, algorithms=[alg])
            registry.validate(token.claims)
        except (JoseError, ValueError, TypeError) as exc:
            self._reject(_describe_jose(exc), exc)
        claims = token.claims
        # Steps 4-5: with several audiences azp must be there; when there it must be us.
        azp = claims.get("azp")
        audience = claims["aud"]
        if azp is not None and azp != self._client_id:
            self._reject("azp is not our client_id")
        if azp is None and isinstance(audience, list) and len(audience) > 1:
            self._reject("several audiences and no azp")
        # Step 11: the nonce ties the token to the browser session that started the
        # sign-in (replay and code injection, RFC 9700 §4.5.3). Exact string match only.
        token_nonce = claims.get("nonce")
        if not isinstance(token_nonce, str) or not hmac.compare_digest(
            token_nonce.encode(), nonce.encode()
        ):
            self._reject("nonce mismatch")
        return claims

    async def _signing_key(self, discovery: _Discovery, kid: str | None, alg: str) -> Key:
        keys = self._keys
        fetched = keys is None
        if keys is None:
            keys = await self._refresh_keys(discovery, stale=None)
        key = _find_key(keys, kid, alg)
        if key is None and not fetched:
            # The provider may have rotated its keys: fetch the JWKS again, once.
            self._log.info("%s ID token names unknown key %r; fetching the JWKS", self.name, kid)
            keys = await self._refresh_keys(discovery, stale=keys)
            key = _find_key(keys, kid, alg)
        if key is None:
            self._reject(f"no published {alg} key with kid {kid!r}")
        return key

    async def _refresh_keys(self, discovery: _Discovery, *, stale: KeySet | None) -> KeySet:
        async with self._keys_lock:
            # Another sign-in may have refreshed the set while we waited.
            if self._keys is not None and self._keys is not stale:
                return self._keys
            response = await self._get("JWKS", discovery.jwks_uri)
            try:
                body = response.json()
                if not isinstance(body, dict) or not isinstance(body.get("keys"), list):
                    raise ValueError("not a JWK set")
                keys = KeySet.import_key_set(cast(KeySetSerialization, body))
            except (JoseError, ValueError, TypeError, KeyError) as exc:
                self._log.warning("%s JWKS rejected: %s", self.name, exc)
                raise IdentityProviderUnavailable() from exc
            self._keys = keys
            return keys

    def _profile(self, discovery: _Discovery, claims: dict[str, Any]) -> ExternalProfile:
        email = claims.get("email")
        email = email if isinstance(email, str) and email else None
        verified = claims.get("email_verified")
        name = claims.get("name")
        return ExternalProfile(
            issuer=discovery.issuer,
            subject=claims["sub"],
            email=email,
            # Some providers send the string "true". Anything else is "not verified":
            # this flag decides whether an account may be linked by email.
            email_verified=email is not None and (verified is True or verified == "true"),
            name=name if isinstance(name, str) and name else None,
        )

    # -- helpers -----------------------------------------------------------------------

    async def _get(self, what: str, url: str) -> httpx.Response:
        try:
            response = await self._client.get(url, headers=_JSON, timeout=self._timeout)
        except httpx.HTTPError as exc:
            self._log.warning("%s %s unreachable: %s", self.name, what, _describe(exc))
            raise IdentityProviderUnavailable() from exc
        if not response.is_success:
            self._fail_status(what, response)
        return response

    def _fail_status(self, what: str, response: httpx.Response) -> NoReturn:
        self._log.warning("%s %s answered HTTP %s", self.name, what, response.status_code)
        try:
            response.raise_for_status()
        except httpx.HTTPStatusError as exc:
            raise IdentityProviderUnavailable() from exc
        raise IdentityProviderUnavailable()  # a 2xx answer that is not what we expect

    def _reject(self, reason: str, cause: BaseException | None = None) -> NoReturn:
        # The reason is for operators only; the client learns "invalid_id_token".
        self._log.warning("%s ID token rejected: %s", self.name, reason)
        raise IdentityProviderError(INVALID_ID_TOKEN) from cause


def _find_key(keys: KeySet, kid: str | None, alg: str) -> Key | None:
    try:
        return keys.get_by_kid(kid, {"alg": alg, "use": "sig"})
    except InvalidKeyIdError:
        return None


def _string(body: dict[str, Any], field: str) -> str:
    value = body.get(field)
    if not isinstance(value, str) or not value:
        raise ValueError(f"{field} is missing")
    return value


def _require_tls(url: str, field: str) -> str:
    # RFC 6749 §3.1-3.2 and OpenID Connect Core §16.17: endpoints over TLS; plain HTTP
    # only on loopback (development and tests).
    parts = urlsplit(url)
    if parts.scheme == "https" and parts.hostname:
        return url
    if parts.scheme == "http" and parts.hostname in _LOOPBACK_HOSTS:
        return url
    raise ValueError(f"{field} must be an https URL: {url!r}")


def _describe(exc: httpx.HTTPError) -> str:
    if isinstance(exc, httpx.HTTPStatusError):
        return f"HTTP {exc.response.status_code}"
    return type(exc).__name__


def _describe_jose(exc: Exception) -> str:
    if isinstance(exc, JoseError):
        return f"{exc.error}: {exc.description}" if exc.description else exc.error
    return type(exc).__name__
