from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol


@dataclass(frozen=True, slots=True, kw_only=True)
class ExternalProfile:
    """What a verified ID token says about the person."""

    issuer: str
    subject: str
    email: str | None
    email_verified: bool
    name: str | None


class IdentityProvider(Protocol):
    """An OpenID Connect provider (Google is a preset)."""

    name: str

    async def authorization_url(self, *, state: str, nonce: str, code_challenge: str) -> str: ...

    async def complete(self, *, code: str, code_verifier: str, nonce: str) -> ExternalProfile:
        """Exchange the code and verify the ID token; raise ``IdentityProviderError`` or
        ``IdentityProviderUnavailable``."""
        ...
