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


@dataclass(frozen=True, slots=True)
class GenuineRefreshToken:
    """What a genuine refresh token names under its MAC."""

    session_id: str
    # 0 for a family's first token, one more at each rotation; None: unknown (a token of a
    # format from before generations, or a legacy one).
    generation: int | None


def successor_generation(generation: int | None) -> int:
    """The generation of the successor of a token of ``generation``: one more; 1 after a
    token of unknown generation (it stands where generation 0 would)."""
    return 1 if generation is None else generation + 1


class RefreshTokens(Protocol):
    """Refresh tokens that name their family: ``<session id>.<generation>.<nonce and MAC>``.

    A token carries its session id and generation under a MAC of the server's, so the
    grant store finds the family by session id and keeps no entry per token (RFC 9700
    §4.14.2 reuse detection needs only the family's current and previous hash and its
    generation: any other genuine token of the family is an old one, or, when its
    generation is past the family's, one the store lost). Tokens of the two-part format
    ``<session id>.<nonce and MAC>`` issued before generations are still read, generation
    unknown. Tokens issued before tokens named their family (opaque, 43 characters) are
    *legacy*: their session is found once through the store's old index.
    """

    def new(self, session_id: str) -> str:
        """The first token of a new family: generation 0."""
        ...

    def successor(self, token: str, session_id: str) -> str:
        """The token that replaces ``token`` in ``session_id``'s family on rotation; the
        same every time it is asked (a grace replay gets the very successor), of the
        current format, generation ``successor_generation`` of the token's."""
        ...

    def read(self, token: str) -> GenuineRefreshToken | None:
        """The session and generation a genuine token names; None for anything else (a
        forged or malformed token, or a legacy one)."""
        ...

    def is_legacy(self, token: str) -> bool:
        """An opaque token of the format issued before tokens named their family."""
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
