"""Response bodies shared by several features: the user, tokens, problems."""

from __future__ import annotations

import msgspec

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


class TokenBody(msgspec.Struct, frozen=True):
    access_token: str
    expires_in: int
    token_type: str = "Bearer"
    user: UserBody | msgspec.UnsetType = msgspec.UNSET
    refresh_token: str | msgspec.UnsetType = msgspec.UNSET
    refresh_expires_in: int | msgspec.UnsetType = msgspec.UNSET
    # A password sign-in with a password known from breaches (AUTH_PWNED_CHECK).
    password_breached: bool | msgspec.UnsetType = msgspec.UNSET


class ReauthenticatedBody(msgspec.Struct, frozen=True):
    """A new access token of the same session, stating the fresh proof."""

    access_token: str
    expires_in: int
    auth_time: int
    amr: list[str]
    acr: str
    token_type: str = "Bearer"


class AcceptedBody(msgspec.Struct, frozen=True):
    """202: the request is taken; what follows happens by mail."""

    status: str
    detail: str
