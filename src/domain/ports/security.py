from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

from domain.assurance import Assurance


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
    assurance: Assurance  # auth_time, amr and acr (OpenID Connect Core §2)


class AccessTokens(Protocol):
    def issue(self, claims: AccessClaims) -> str: ...

    def verify(self, token: str) -> AccessClaims:
        """Raise ``InvalidAccessToken`` for anything but a valid token of ours."""
        ...

    def jwks(self) -> dict[str, Any]: ...


@dataclass(frozen=True, slots=True)
class GenuineRefreshToken:
    """What a genuine refresh token names under its MAC."""

    session_id: str
    generation: int  # 0 for a family's first token, one more at each rotation


class RefreshTokens(Protocol):
    """Refresh tokens that name their family: ``<session id>.<generation>.<nonce and MAC>``.

    A token carries its session id and generation under a MAC of the server's, so the
    grant store finds the family by session id and keeps no entry per token (RFC 9700
    §4.14.2 reuse detection needs only the family's current and previous hash and its
    generation: any other genuine token of the family is an old one, or, when its
    generation is past the family's, one the store lost).
    """

    def new(self, session_id: str) -> str:
        """The first token of a new family: generation 0."""
        ...

    def successor(self, token: str) -> str:
        """The token that replaces the genuine ``token`` in its family on rotation; the
        same every time it is asked (a grace replay gets the very successor), one
        generation on. ``ValueError`` for a token that is not genuine."""
        ...

    def read(self, token: str) -> GenuineRefreshToken | None:
        """The session and generation a genuine token names; None for anything else (a
        forged, malformed or overlong token). The one reading of a refresh token."""
        ...

    def digest(self, token: str) -> str: ...


class SecretBox(Protocol):
    """Secrets at rest: sealed (authenticated encryption, bound to a context such as the
    owner), and keyed one-way digests. The key never leaves the adapter."""

    def seal(self, plaintext: str, context: str) -> str: ...

    def open(self, sealed: str, context: str) -> str:
        """Raise ``StorageUnavailable`` when it does not open (another key, tampered)."""
        ...

    def digest(self, value: str) -> str:
        """A keyed one-way digest, the same for the same value."""
        ...


class OneTimePasswords(Protocol):
    """RFC 6238 TOTP: SHA-1, 6 digits, 30-second steps."""

    def new_secret(self) -> str:
        """A base32 secret of 160 random bits (RFC 4226 §4, R6)."""
        ...

    def provisioning_uri(self, secret: str, *, account: str, issuer: str) -> str:
        """The ``otpauth://totp/…`` URI an authenticator app scans."""
        ...

    def matching_step(self, secret: str, code: str, at: datetime, skew: int) -> int | None:
        """The time step within ``skew`` steps of ``at`` whose code this is, or None."""
        ...
