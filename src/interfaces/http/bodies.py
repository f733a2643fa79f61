"""Wire formats: msgspec Structs for every request and response body."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any, Literal

import msgspec
from litestar.openapi.spec import OpenAPIFormat

from domain.entities import User
from domain.values import MAX_EMAIL_LENGTH, NAME_MAX, PASSWORD_MAX, PASSWORD_MIN


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


def documented(**schema: Any) -> msgspec.Meta:
    """A constraint the use case enforces, stated for the OpenAPI document. Not enforced here:
    the domain normalises first (emails are trimmed) and reports every field at once, where
    msgspec would stop at the first."""
    return msgspec.Meta(extra_json_schema={"extra": schema})


# Cloudflare: a Turnstile token is at most 2048 characters. Refresh tokens: 256 bits, base64url.
TURNSTILE_TOKEN_MAX = 2048
REFRESH_TOKEN_LENGTH = 43

Email = Annotated[str, documented(format=OpenAPIFormat.EMAIL, max_length=MAX_EMAIL_LENGTH)]
NewPassword = Annotated[str, documented(min_length=PASSWORD_MIN, max_length=PASSWORD_MAX)]
Name = Annotated[str, documented(max_length=NAME_MAX)]
TurnstileToken = Annotated[str, documented(max_length=TURNSTILE_TOKEN_MAX)]
RefreshToken = Annotated[
    str, documented(min_length=REFRESH_TOKEN_LENGTH, max_length=REFRESH_TOKEN_LENGTH)
]


class RegisterRequest(msgspec.Struct, frozen=True):
    email: Email
    password: NewPassword
    name: Name | None = None
    turnstile_token: TurnstileToken | None = None


class LoginRequest(msgspec.Struct, frozen=True):
    """``email``, or ``username`` for OAuth2-password-style clients. Any wrong value is the
    same 401 ``invalid_credentials``, so nothing here is constrained."""

    password: str
    email: str | None = None
    username: str | None = None


class RefreshRequest(msgspec.Struct, frozen=True):
    refresh_token: RefreshToken | None = None


class RevokeRequest(msgspec.Struct, frozen=True):
    # A Literal, not bool: Litestar converts in msgspec's lax mode, which takes 1 or "true"
    # for a bool; a Literal of booleans stays strict.
    keep_current: Literal[True, False] = False


class UserBody(msgspec.Struct, frozen=True):
    id: int
    email: str
    name: str | None
    role: str
    is_admin: bool
    created_at: str

    @classmethod
    def of(cls, user: User) -> UserBody:
        return cls(
            id=user.id,
            email=user.email,
            name=user.name,
            role=user.role,
            is_admin=user.is_admin,
            created_at=iso(user.created_at),
        )


class MeBody(msgspec.Struct, frozen=True):
    user: UserBody


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


class HealthBody(msgspec.Struct, frozen=True):
    status: str
    checks: dict[str, str] = msgspec.field(default_factory=dict)


def iso(moment: datetime) -> str:
    """RFC 3339 in UTC with a Z, to the second, as the spec shows."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
