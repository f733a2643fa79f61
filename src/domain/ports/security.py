from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol


class PasswordHasher(Protocol):
    """argon2id for new hashes; verifies legacy bcrypt too. Never blocks the event loop."""

    async def hash(self, password: str) -> str: ...

    async def verify(self, password_hash: str, password: str) -> bool:
        """False on mismatch or an unusable hash; never raises for bad input."""
        ...

    def needs_rehash(self, password_hash: str) -> bool: ...


@dataclass(frozen=True, slots=True, kw_only=True)
class AccessClaims:
    user_id: int
    session_id: str
    role: str
    token_id: str
    issued_at: datetime
    expires_at: datetime


class AccessTokens(Protocol):
    def issue(self, claims: AccessClaims) -> str: ...

    def verify(self, token: str) -> AccessClaims:
        """Raise ``InvalidAccessToken`` for anything but a valid token of ours."""
        ...

    def jwks(self) -> dict[str, Any]: ...


class RefreshTokens(Protocol):
    """Opaque refresh tokens: generation, the stored digest, and the rotation successor."""

    def new(self) -> str: ...

    def successor(self, token: str) -> str:
        """The token that replaces ``token`` on rotation; the same every time it is asked."""
        ...

    def digest(self, token: str) -> str: ...
