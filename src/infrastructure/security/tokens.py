"""ES256 access tokens (RFC 9068 profile) signed and verified with joserfc."""

from __future__ import annotations

import hashlib
import sys
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from typing import Any

from joserfc import jwt
from joserfc.errors import JoseError
from joserfc.jwk import KeySet

from domain.assurance import Assurance
from domain.errors import InvalidAccessToken
from domain.ports import AccessClaims, AccessTokens, EventSigner
from infrastructure.security.low_s_ecdsa import LowSRegistry

ALGORITHM = "ES256"
TOKEN_TYPE = "at+jwt"
# RFC 8417 §2.3: explicit typing, so a Security Event Token never passes for an access token
# (ours require at+jwt) and an access token never for a SET.
EVENT_TYPE = "secevent+jwt"
# RFC 8725 §3.1/§3.10: one pinned algorithm; no header may point at keys elsewhere.
_ALLOWED_HEADERS = frozenset({"alg", "typ", "kid"})
# Low-S ES256 on both sides, so a token string is unique for its claims (low_s_ecdsa.py).
_REGISTRY = LowSRegistry()
MAX_TOKEN_LENGTH = 4096
# Verified tokens remembered per process: 560 B each (tracemalloc over 16,384: the claims
# ~470 B, the 16-byte key 49 B, the dict's slot ~36 B), 9 MB when full. Insertion order
# drops the oldest first, the one nearest its exp. A FIFO smaller than the tokens in use
# misses every time on cyclic access; this one holds the bench's pool of 10,000, or 18 new
# tokens a second for a whole 15-minute lifetime.
VERIFIED_CACHE_SIZE = 16_384


class JwtAccessTokens(AccessTokens, EventSigner):
    def __init__(
        self,
        keys: KeySet,
        *,
        issuer: str,
        audience: str,
        clock: Callable[[], datetime],
        client_id: str | None = None,
    ) -> None:
        self._keys = keys
        self._signing_key = keys.keys[0]
        self._issuer = issuer
        self._audience = audience
        # RFC 9068 §2.2: client_id is a required claim of a JWT access token.
        self._client_id = client_id or audience
        self._clock = clock
        # ES256 verification costs ~90 µs; a token that verified once stays valid until its
        # exp (the signature cannot change), so recent ones are remembered, exp checked again
        # on every hit. Revocation is not cached: the session denylist is checked on every
        # request. New keys build a new adapter (reloading_tokens.py), so a key retired from
        # the JWKS leaves no token verified under it.
        self._verified: dict[bytes, AccessClaims] = {}

    def issue(self, claims: AccessClaims) -> str:
        header = {"alg": ALGORITHM, "typ": TOKEN_TYPE, "kid": self._signing_key.kid}
        payload = {
            "iss": self._issuer,
            "aud": self._audience,
            "client_id": self._client_id,
            "sub": str(claims.user_id),
            "sid": claims.session_id,
            "jti": claims.token_id,
            "iat": int(claims.issued_at.timestamp()),
            "exp": int(claims.expires_at.timestamp()),
            "role": claims.role,
            # OpenID Connect Core §2 / RFC 9068 §2.2.1: how and when the user authenticated.
            "auth_time": int(claims.assurance.auth_time.timestamp()),
            "amr": list(claims.assurance.amr),
            "acr": claims.assurance.acr,
        }
        return jwt.encode(
            header, payload, self._signing_key, algorithms=[ALGORITHM], registry=_REGISTRY
        )

    def sign_event(self, claims: Mapping[str, Any]) -> str:
        header = {"alg": ALGORITHM, "typ": EVENT_TYPE, "kid": self._signing_key.kid}
        return jwt.encode(
            header, dict(claims), self._signing_key, algorithms=[ALGORITHM], registry=_REGISTRY
        )

    def verify(self, token: str) -> AccessClaims:
        if len(token) > MAX_TOKEN_LENGTH:
            raise InvalidAccessToken()
        key = _cache_key(token)
        cached = self._verified.get(key)
        if cached is not None:
            if cached.expires_at > self._clock():
                return cached
            del self._verified[key]
        claims = self._verify(token)
        if len(self._verified) >= VERIFIED_CACHE_SIZE:
            self._verified.pop(next(iter(self._verified)))
        self._verified[key] = claims
        return claims

    def _verify(self, token: str) -> AccessClaims:
        try:
            decoded = jwt.decode(token, self._keys, algorithms=[ALGORITHM], registry=_REGISTRY)
            header = decoded.header
            # RFC 8725 §3.11 / RFC 9068 §4: explicit typing against cross-JWT confusion.
            if (
                header.get("typ") != TOKEN_TYPE
                or "kid" not in header
                or not set(header) <= _ALLOWED_HEADERS
            ):
                raise InvalidAccessToken()
            self._claims_registry().validate(decoded.claims)
            return _to_claims(decoded.claims)
        except (JoseError, ValueError, TypeError, KeyError) as e:
            raise InvalidAccessToken() from e

    def jwks(self) -> dict[str, Any]:
        return dict(self._keys.as_dict(private=False))

    def _claims_registry(self) -> jwt.JWTClaimsRegistry:
        return jwt.JWTClaimsRegistry(
            now=int(self._clock().timestamp()),
            iss={"essential": True, "value": self._issuer},
            aud={"essential": True, "value": self._audience},
            exp={"essential": True},
            iat={"essential": True},
            sub={"essential": True},
            sid={"essential": True},
            jti={"essential": True},
            auth_time={"essential": True},
            amr={"essential": True},
        )


def _cache_key(token: str) -> bytes:
    """128 bits of BLAKE2b stand for the token: a key of 16 bytes, not of 500. Serving one
    token's claims for another needs a token with the digest of one we signed: a second
    preimage, 2^128 work. The birthday bound (2^64) does not apply, as nobody but us chooses
    a signed token's bytes (its sid and jti are our random values); and by chance two of
    16,384 entries collide with a probability near 2^-101."""
    return hashlib.blake2b(token.encode(), digest_size=16).digest()


def _to_claims(claims: dict[str, Any]) -> AccessClaims:
    sub, sid, role = claims["sub"], claims["sid"], claims.get("role", "user")
    if not (isinstance(sub, str) and sub.isdigit() and isinstance(sid, str)):
        raise ValueError("malformed subject or session id")
    if not isinstance(role, str):
        raise ValueError("malformed role")
    auth_time, amr = claims["auth_time"], claims["amr"]
    if not (
        isinstance(auth_time, int)
        and isinstance(amr, list)
        and all(isinstance(value, str) for value in amr)
    ):
        raise ValueError("malformed auth_time or amr")
    # Few roles and methods exist: interned, each is one string in every cached claims.
    return AccessClaims(
        user_id=int(sub),
        session_id=sid,
        role=sys.intern(role),
        token_id=str(claims["jti"]),
        issued_at=datetime.fromtimestamp(claims["iat"], UTC),
        expires_at=datetime.fromtimestamp(claims["exp"], UTC),
        # acr is derived from amr, never read on its own: one source for both.
        assurance=Assurance(datetime.fromtimestamp(auth_time, UTC), tuple(map(sys.intern, amr))),
    )
