"""Response bodies (and the problem body): msgspec Structs, as the spec shows them."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Literal

import msgspec

from domain.entities import User


class FieldErrorBody(msgspec.Struct, frozen=True):
    field: str
    message: str


class Problem(msgspec.Struct):
    title: str
    status: int
    detail: str
    code: str
    type: str = "about:blank"
    errors: list[FieldErrorBody] | msgspec.UnsetType = msgspec.UNSET


class UserBody(msgspec.Struct, frozen=True):
    id: int
    email: str
    name: str | None
    role: str
    is_admin: bool
    created_at: str
    email_verified: bool

    @classmethod
    def of(cls, user: User) -> UserBody:
        return cls(
            id=user.id,
            email=user.email,
            name=user.name,
            role=user.role,
            is_admin=user.is_admin,
            created_at=iso(user.created_at),
            email_verified=user.email_verified,
        )


class MeBody(msgspec.Struct, frozen=True):
    user: UserBody


class AwaitingVerificationBody(msgspec.Struct, frozen=True):
    """Register's answer under AUTH_REQUIRE_VERIFIED_EMAIL: the account, no session yet. The
    required flag keeps it apart from ``TokenBody`` in the OpenAPI ``oneOf``."""

    user: UserBody
    email_verification_required: Literal[True]


class TokenBody(msgspec.Struct, frozen=True):
    access_token: str
    expires_in: int
    token_type: str = "Bearer"
    user: UserBody | msgspec.UnsetType = msgspec.UNSET
    refresh_token: str | msgspec.UnsetType = msgspec.UNSET
    refresh_expires_in: int | msgspec.UnsetType = msgspec.UNSET


class SessionBody(msgspec.Struct, frozen=True):
    id: str
    created_at: str
    last_used_at: str
    ip_address: str | None
    user_agent: str | None
    current: bool


class SessionsBody(msgspec.Struct, frozen=True):
    sessions: list[SessionBody]


class AcceptedBody(msgspec.Struct, frozen=True):
    """202: the request is taken; what follows happens by mail."""

    status: str
    detail: str


class HealthBody(msgspec.Struct, frozen=True):
    status: str
    checks: dict[str, str] = msgspec.field(default_factory=dict)


def iso(moment: datetime) -> str:
    """RFC 3339 in UTC with a Z, to the second, as the spec shows."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
