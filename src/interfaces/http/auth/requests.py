"""Request bodies of sign-up, sign-in, refresh and logout."""

from __future__ import annotations

import msgspec

from interfaces.http.requests import Email, Name, NewPassword, RefreshToken, TurnstileToken


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
