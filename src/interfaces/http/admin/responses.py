"""Response bodies of the admin API."""

from __future__ import annotations

import msgspec

from application.admin import UserDetails
from domain.entities import ExternalIdentity, User
from interfaces.http.responses import UserBody
from interfaces.timestamps import iso


class IdentityBody(msgspec.Struct, frozen=True):
    provider: str
    email: str | None
    created_at: str

    @classmethod
    def of(cls, identity: ExternalIdentity) -> IdentityBody:
        return cls(
            provider=identity.provider, email=identity.email, created_at=iso(identity.created_at)
        )


class AdminUserBody(UserBody, frozen=True):
    """The user body every endpoint shows, and whether the account is disabled."""

    disabled: bool

    @classmethod
    def of(cls, user: User) -> AdminUserBody:
        return cls(**msgspec.structs.asdict(UserBody.of(user)), disabled=user.disabled)


class AdminUserDetailsBody(AdminUserBody, frozen=True):
    identities: list[IdentityBody]
    live_sessions: int

    @classmethod
    def of_details(cls, details: UserDetails) -> AdminUserDetailsBody:
        return cls(
            **msgspec.structs.asdict(AdminUserBody.of(details.user)),
            identities=[IdentityBody.of(i) for i in details.identities],
            live_sessions=details.live_sessions,
        )


class UsersPageBody(msgspec.Struct, frozen=True):
    users: list[AdminUserBody]
    next_cursor: str | None
