"""Request bodies of the email ownership and account recovery endpoints."""

from __future__ import annotations

from typing import Annotated

import msgspec

from application.email.tokens import TOKEN_MAX
from interfaces.http.requests import Email, NewPassword, TurnstileToken, documented

# Longer or empty tokens are answered like any unknown token (400), so not enforced here.
MailToken = Annotated[str, documented(min_length=1, max_length=TOKEN_MAX)]


class VerifyEmailRequest(msgspec.Struct, frozen=True):
    token: MailToken


class ForgotPasswordRequest(msgspec.Struct, frozen=True):
    email: Email
    turnstile_token: TurnstileToken | None = None


class ResetPasswordRequest(msgspec.Struct, frozen=True):
    token: MailToken
    new_password: NewPassword


class ChangePasswordRequest(msgspec.Struct, frozen=True):
    current_password: str
    new_password: NewPassword


class SetPasswordRequest(msgspec.Struct, frozen=True):
    new_password: NewPassword


class EmailChangeRequest(msgspec.Struct, frozen=True):
    email: Email


class ChangeEmailRequest(msgspec.Struct, frozen=True):
    token: MailToken
