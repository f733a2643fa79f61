from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from domain.errors import IdentityProviderError, IdentityProviderUnavailable

# RFC 6749 §4.1.2.1 and §5.2: these say our client registration or the provider is at
# fault, not the person signing in (invalid_client: our credentials are wrong).
PROVIDER_SIDE_ERRORS: frozenset[str] = frozenset(
    {"invalid_client", "unauthorized_client", "server_error", "temporarily_unavailable"}
)


@dataclass(frozen=True, slots=True, kw_only=True)
class ExternalProfile:
    """What a verified ID token says about the person."""

    issuer: str
    subject: str
    email: str | None
    email_verified: bool
    name: str | None
    amr: tuple[str, ...] = ()  # how the provider says it authenticated them (RFC 8176)
    authenticated_at: datetime | None = None  # when, if it says (the ID token's auth_time)


class IdentityProvider(Protocol):
    """An OpenID Connect provider (Google is a preset)."""

    name: str

    async def authorization_url(
        self, *, state: str, nonce: str, code_challenge: str, max_age: int | None = None
    ) -> str:
        """``max_age``: seconds since the user last authenticated at the provider beyond which
        it must authenticate them again, and name the time in the ID token's ``auth_time``
        (OpenID Connect Core §3.1.2.1)."""
        ...

    async def complete(self, *, code: str, code_verifier: str, nonce: str) -> ExternalProfile:
        """Exchange the code and verify the ID token; raise ``IdentityProviderError`` with
        the provider's own error code (see ``refusal``) or ``IdentityProviderUnavailable``."""
        ...


def refusal(provider_code: str) -> IdentityProviderError | IdentityProviderUnavailable:
    """What an OAuth error code from the provider (at the callback or the token endpoint)
    means for the person signing in: a refusal (``IdentityProviderError``), or an outage
    only an operator can fix (``IdentityProviderUnavailable``)."""
    if provider_code in PROVIDER_SIDE_ERRORS:
        return IdentityProviderUnavailable()
    return IdentityProviderError(provider_code)
