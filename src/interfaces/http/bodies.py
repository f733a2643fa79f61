"""Response bodies (and the problem body): msgspec Structs, as the spec shows them."""

from __future__ import annotations

from typing import Literal

import msgspec

from application.introspection import ActiveToken
from domain.entities import User
from interfaces.timestamps import iso


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


class IntrospectionBody(msgspec.Struct, frozen=True):
    """RFC 7662 §2.2: ``active`` alone for anything but a live access token of ours."""

    active: bool
    token_type: str | msgspec.UnsetType = msgspec.UNSET
    client_id: str | msgspec.UnsetType = msgspec.UNSET
    sub: str | msgspec.UnsetType = msgspec.UNSET
    sid: str | msgspec.UnsetType = msgspec.UNSET
    role: str | msgspec.UnsetType = msgspec.UNSET
    iss: str | msgspec.UnsetType = msgspec.UNSET
    aud: str | msgspec.UnsetType = msgspec.UNSET
    jti: str | msgspec.UnsetType = msgspec.UNSET
    iat: int | msgspec.UnsetType = msgspec.UNSET
    exp: int | msgspec.UnsetType = msgspec.UNSET

    @classmethod
    def of(cls, active: ActiveToken | None) -> IntrospectionBody:
        if active is None:
            return cls(active=False)
        claims, context = active.claims, active.context
        return cls(
            active=True,
            token_type="Bearer",
            client_id=context.client_id,
            sub=str(claims.user_id),
            sid=claims.session_id,
            role=claims.role,
            iss=context.issuer,
            aud=context.audience,
            jti=claims.token_id,
            iat=int(claims.issued_at.timestamp()),
            exp=int(claims.expires_at.timestamp()),
        )
