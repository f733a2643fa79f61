"""OpenID Connect sign-in: the authorization code flow with PKCE, for any provider that
publishes a discovery document (Google is a preset).

Decisions follow OpenID Connect Core 1.0 (§3.1.3.7, ID token validation), OpenID Connect
Discovery 1.0 and RFC 9700 (OAuth 2.0 Security Best Current Practice). Each step has its
own module: ``discovery``, ``authorization``, ``exchange``, ``id_token``, ``jwks``,
``profile``; ``transport`` makes every HTTP failure ``IdentityProviderUnavailable``.

Every failure becomes one of two domain errors, raised ``from`` the driver error:
``IdentityProviderError`` (the provider refused the code or the ID token is not
acceptable; its message never says why, the log does) and ``IdentityProviderUnavailable``
(timeouts, transport errors, 5xx, answers that are not the JSON we expect).
"""

from __future__ import annotations

from collections.abc import Callable, Collection
from datetime import datetime

import httpx

from domain.ports.identity import ExternalProfile
from infrastructure.oauth.authorization import authorization_url
from infrastructure.oauth.discovery import DiscoveryCache
from infrastructure.oauth.exchange import ClientRegistration, exchange_code
from infrastructure.oauth.id_token import IdTokenVerifier
from infrastructure.oauth.jwks import JwksCache
from infrastructure.oauth.profile import profile_of
from infrastructure.oauth.transport import ProviderHttp


class OidcProvider:
    """An ``IdentityProvider`` for one OpenID Connect provider.

    ``issuers`` are the accepted spellings of the provider's ``iss`` (default: the
    discovery document's ``issuer``); the profile always carries the latter. ``clock``
    returns the current time as an aware UTC datetime; it decides ``exp`` and ``iat``,
    with ``leeway`` seconds of tolerated clock skew.
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
        issuers: Collection[str] | None = None,
        clock: Callable[[], datetime],
        timeout: float = 10.0,
        leeway: int = 60,
    ) -> None:
        self.name = name
        self._http = ProviderHttp(client, name, timeout)
        self._discovery = DiscoveryCache(self._http, discovery_url)
        self._registration = ClientRegistration(
            client_id=client_id, client_secret=client_secret, redirect_uri=redirect_uri
        )
        self._id_tokens = IdTokenVerifier(
            name=name,
            client_id=client_id,
            issuers=issuers,
            keys=JwksCache(self._http),
            clock=clock,
            leeway=leeway,
        )

    async def authorization_url(
        self, *, state: str, nonce: str, code_challenge: str, max_age: int | None = None
    ) -> str:
        discovery = await self._discovery.get()
        return authorization_url(
            discovery.authorization_endpoint,
            client_id=self._registration.client_id,
            redirect_uri=self._registration.redirect_uri,
            state=state,
            nonce=nonce,
            code_challenge=code_challenge,
            max_age=max_age,
        )

    async def complete(self, *, code: str, code_verifier: str, nonce: str) -> ExternalProfile:
        discovery = await self._discovery.get()
        id_token = await exchange_code(
            self._http,
            discovery.token_endpoint,
            self._registration,
            code=code,
            code_verifier=code_verifier,
        )
        claims = await self._id_tokens.verify(discovery, id_token, nonce=nonce)
        return profile_of(discovery, claims)
