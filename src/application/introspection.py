"""Token introspection (RFC 7662) for resource servers that need a revoked session's access
tokens refused at once rather than at their expiry.

RFC 7662 §2.1/§4: the endpoint requires the caller to authenticate, or anyone could probe
tokens with it. Only access tokens are answered for: a refresh token, or anything else, is
``active: false`` (never shown to a resource server, RFC 9700 §4.14).
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Mapping
from dataclasses import dataclass

from application.authenticate import Authenticate
from domain.errors import InvalidAccessToken, InvalidClient
from domain.ports import AccessClaims

# What an unknown client id is compared with, so that it costs what a wrong secret costs.
_NOBODY = hashlib.sha256(b"no such client").digest()


class IntrospectionClients:
    """The resource servers allowed to introspect (AUTH_INTROSPECTION_CLIENTS).

    Secrets are compared as SHA-256 digests with ``hmac.compare_digest``: the time taken
    depends neither on how much of a guess matches nor on its length, and an unknown client
    id is compared too (OWASP ASVS 5.0 V11.2.4, constant-time comparison of secrets)."""

    def __init__(self, secrets: Mapping[str, str]) -> None:
        self._digests = {client: _digest(secret) for client, secret in secrets.items()}

    @property
    def enabled(self) -> bool:
        return bool(self._digests)

    def authenticate(self, client_id: str, secret: str) -> str:
        """The client id, or ``InvalidClient``."""
        expected = self._digests.get(client_id, _NOBODY)
        matches = hmac.compare_digest(expected, _digest(secret))
        if not matches or client_id not in self._digests:
            raise InvalidClient()
        return client_id


@dataclass(frozen=True, slots=True, kw_only=True)
class TokenContext:
    """The claims every access token of this service carries alike (RFC 7662 §2.2 asks for
    them in the answer)."""

    issuer: str
    audience: str
    client_id: str


@dataclass(frozen=True, slots=True, kw_only=True)
class IntrospectionPolicy:
    context: TokenContext
    secrets: Mapping[str, str]  # client id -> secret


@dataclass(frozen=True, slots=True, kw_only=True)
class ActiveToken:
    claims: AccessClaims
    context: TokenContext


class IntrospectToken:
    """An access token's claims while it is valid and its session lives, else None
    (``active: false``): the same check every authenticated request gets, denylist
    included."""

    def __init__(self, *, authenticate: Authenticate, context: TokenContext) -> None:
        self._authenticate = authenticate
        self._context = context

    async def execute(self, token: str) -> ActiveToken | None:
        try:
            claims = await self._authenticate.execute(token)
        except InvalidAccessToken:
            return None
        return ActiveToken(claims=claims, context=self._context)


def _digest(secret: str) -> bytes:
    return hashlib.sha256(secret.encode()).digest()
