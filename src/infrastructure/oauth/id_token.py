"""ID token validation (OpenID Connect Core 1.0 §3.1.3.7).

The ID token comes straight from the token endpoint, yet it is still fully verified
(signature, ``iss``, ``aud``, ``azp``, ``exp``, ``iat``, ``nonce``): the nonce check is
what ties it to the browser that started the sign-in.
"""

from __future__ import annotations

import hmac
import logging
from collections.abc import Callable, Collection
from datetime import datetime
from typing import Any, NoReturn

from joserfc import jws, jwt
from joserfc.errors import JoseError

from domain.errors import IdentityProviderError
from infrastructure.oauth.discovery import Discovery
from infrastructure.oauth.jwks import JwksCache

# Asymmetric algorithms only. "none" and HS* are never accepted: an HS* token would be
# checked with a secret shared with the client, and "none" carries no signature at all
# (OpenID Connect Core §3.1.3.7 steps 6-8; RFC 8725 §3.1).
ALLOWED_ALGORITHMS: tuple[str, ...] = ("RS256", "ES256")
INVALID_ID_TOKEN = "invalid_id_token"

_log = logging.getLogger(__name__)


class IdTokenVerifier:
    """``issuers``: the accepted spellings of ``iss`` (default: the discovery document's
    ``issuer``). ``clock`` decides ``exp`` and ``iat``, with ``leeway`` seconds of skew."""

    def __init__(
        self,
        *,
        name: str,
        client_id: str,
        issuers: Collection[str] | None,
        keys: JwksCache,
        clock: Callable[[], datetime],
        leeway: int,
    ) -> None:
        self._name = name
        self._client_id = client_id
        self._issuers = frozenset(issuers) if issuers is not None else None
        self._keys = keys
        self._clock = clock
        self._leeway = leeway

    async def verify(self, discovery: Discovery, id_token: str, *, nonce: str) -> dict[str, Any]:
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
        key = await self._keys.signing_key(discovery.jwks_uri, kid, alg)
        if key is None:
            self._reject(f"no published {alg} key with kid {kid!r}")
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
            self._reject(_describe(exc), exc)
        self._check_party_and_nonce(token.claims, nonce)
        return token.claims

    def _check_party_and_nonce(self, claims: dict[str, Any], nonce: str) -> None:
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

    def _reject(self, reason: str, cause: BaseException | None = None) -> NoReturn:
        # The reason is for operators only; the client learns "invalid_id_token".
        _log.warning("%s ID token rejected: %s", self._name, reason)
        raise IdentityProviderError(INVALID_ID_TOKEN) from cause


def _describe(exc: Exception) -> str:
    if isinstance(exc, JoseError):
        return f"{exc.error}: {exc.description}" if exc.description else exc.error
    return type(exc).__name__
