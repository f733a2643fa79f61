"""The provider's signing keys (its JWKS), kept and fetched again when it rotates them."""

from __future__ import annotations

import asyncio
import logging
from typing import cast

from joserfc.errors import InvalidKeyIdError, JoseError
from joserfc.jwk import Key, KeySet, KeySetSerialization

from domain.errors import IdentityProviderUnavailable
from infrastructure.oauth.transport import ProviderHttp

_log = logging.getLogger(__name__)


class JwksCache:
    """Fetched on first use and kept; fetched again, once per ID token, when a token names
    a key the kept set does not hold (the provider rotated its keys)."""

    def __init__(self, http: ProviderHttp) -> None:
        self._http = http
        self._keys: KeySet | None = None
        self._lock = asyncio.Lock()

    async def signing_key(self, jwks_uri: str, kid: str | None, alg: str) -> Key | None:
        keys = self._keys
        fetched = keys is None
        if keys is None:
            keys = await self._refresh(jwks_uri, stale=None)
        key = _find(keys, kid, alg)
        if key is None and not fetched:
            _log.info("%s ID token names unknown key %r; fetching the JWKS", self._http.name, kid)
            keys = await self._refresh(jwks_uri, stale=keys)
            key = _find(keys, kid, alg)
        return key

    async def _refresh(self, jwks_uri: str, *, stale: KeySet | None) -> KeySet:
        async with self._lock:
            # Another sign-in may have refreshed the set while we waited.
            if self._keys is not None and self._keys is not stale:
                return self._keys
            response = await self._http.get("JWKS", jwks_uri)
            try:
                body = response.json()
                if not isinstance(body, dict) or not isinstance(body.get("keys"), list):
                    raise ValueError("not a JWK set")
                keys = KeySet.import_key_set(cast(KeySetSerialization, body))
            except (JoseError, ValueError, TypeError, KeyError) as exc:
                _log.warning("%s JWKS rejected: %s", self._http.name, exc)
                raise IdentityProviderUnavailable() from exc
            self._keys = keys
            return keys


def _find(keys: KeySet, kid: str | None, alg: str) -> Key | None:
    try:
        return keys.get_by_kid(kid, {"alg": alg, "use": "sig"})
    except InvalidKeyIdError:
        return None
