"""Response bodies of the admin API."""

from __future__ import annotations

import msgspec

from application.admin import UserDetails
from domain.entities import ExternalIdentity, User
from interfaces.http.bodies import iso


class IdentityBody(msgspec.Struct, frozen=True):
    provider: str
    email: str | None
    created_at: str

    @classmethod
    def of(cls, identity: ExternalIdentity) -> IdentityBody:
        return cls(
            provider=identity.provider, email=identity.email, created_at=iso(identity.created_at)
        )


class AdminUserBody(msgspec.Struct, frozen=True):
    id: int
    email: str
    name: str | None
    role: str
    is_admin: bool
    created_at: str
    email_verified: bool
    disabled: bool

    @classmethod
    def of(cls, user: User) -> AdminUserBody:
        return cls(
            id=user.id,
            email=user.email,
            name=user.name,
            role=user.role,
            is_admin=user.is_admin,
            created_at=iso(user.created_at),
            email_verified=user.email_verified,
            disabled=user.disabled,
        )


class AdminUserDetailsBody(msgspec.Struct, frozen=True):
    id: int
    email: str
    name: str | None
    role: str
    is_admin: bool
    created_at: str
    email_verified: bool
    disabled: bool
    identities: list[IdentityBody]
    live_sessions: int

    @classmethod
    def of(cls, details: UserDetails) -> AdminUserDetailsBody:
        user = AdminUserBody.of(details.user)
        return cls(
            **msgspec.structs.asdict(user),
            identities=[IdentityBody.of(i) for i in details.identities],
            live_sessions=details.live_sessions,
        )


class UsersPageBody(msgspec.Struct, frozen=True):
    users: list[AdminUserBody]
    next_cursor: str | None
