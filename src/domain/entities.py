"""Entities: plain frozen dataclasses, no behaviour that needs I/O."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from domain.assurance import Assurance

ADMIN_ROLE = "admin"
DEFAULT_ROLE = "user"
ROLES = frozenset({DEFAULT_ROLE, ADMIN_ROLE})


@dataclass(frozen=True, slots=True, kw_only=True)
class User:
    id: int
    email: str
    password_hash: str | None
    name: str | None
    role: str
    created_at: datetime
    updated_at: datetime
    disabled_at: datetime | None = None
    email_verified_at: datetime | None = None

    @property
    def is_admin(self) -> bool:
        return self.role == ADMIN_ROLE

    @property
    def disabled(self) -> bool:
        return self.disabled_at is not None

    @property
    def email_verified(self) -> bool:
        return self.email_verified_at is not None


@dataclass(frozen=True, slots=True, kw_only=True)
class NewUser:
    email: str
    password_hash: str | None
    name: str | None
    role: str
    created_at: datetime
    email_verified_at: datetime | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class Session:
    id: str
    user_id: int
    ip_address: str | None
    user_agent: str | None
    created_at: datetime
    last_used_at: datetime
    expires_at: datetime
    revoked_at: datetime | None = None
    revoked_reason: str | None = None

    def is_live(self, now: datetime) -> bool:
        return self.revoked_at is None and self.expires_at > now


@dataclass(frozen=True, slots=True, kw_only=True)
class RefreshGrant:
    """One session's token family: only hashes of refresh tokens, never the tokens."""

    session_id: str
    user_id: int
    token_hash: str
    idle_expires_at: datetime
    absolute_expires_at: datetime
    # How and when the user proved who they are: a refresh keeps it, a re-authentication
    # moves it (``RefreshGrantStore.reassure``).
    assurance: Assurance
    # The user's claims travel with the grant, so a refresh needs no user read; a role
    # change updates every live grant of the user (``RefreshGrantStore.set_role``).
    role: str = DEFAULT_ROLE


@dataclass(frozen=True, slots=True, kw_only=True)
class ExternalIdentity:
    provider: str
    subject: str
    user_id: int
    email: str | None
    created_at: datetime


@dataclass(frozen=True, slots=True, kw_only=True)
class TotpCredential:
    """An authenticator app's shared secret (RFC 6238), sealed at rest.

    Pending until a first code confirms it; ``last_step`` is the time step of the last code
    accepted, so no code is accepted twice (RFC 6238 §5.2)."""

    user_id: int
    sealed_secret: str
    last_step: int | None
    created_at: datetime
    confirmed_at: datetime | None = None

    @property
    def active(self) -> bool:
        return self.confirmed_at is not None


@dataclass(frozen=True, slots=True, kw_only=True)
class NewPasskey:
    user_id: int
    credential_id: bytes
    public_key: bytes  # COSE_Key, as the authenticator attested it
    sign_count: int
    transports: tuple[str, ...]
    user_handle: bytes
    name: str | None
    created_at: datetime
    at_sign_up: bool = False


@dataclass(frozen=True, slots=True, kw_only=True)
class Passkey:
    """A WebAuthn credential of one user: a full sign-in on its own."""

    id: int
    user_id: int
    credential_id: bytes
    public_key: bytes
    sign_count: int
    transports: tuple[str, ...]
    user_handle: bytes
    name: str | None
    created_at: datetime
    last_used_at: datetime | None = None
    # The account's first credential, made with it (a passkey-first sign-up): it stands where
    # a password would, so it is no factor "planted" before the mailbox was proven.
    at_sign_up: bool = False
