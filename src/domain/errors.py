"""Domain errors. Each carries a stable machine-readable ``code``; never an HTTP status."""

from __future__ import annotations

from dataclasses import dataclass


class DomainError(Exception):
    code = "error"
    message = "The request could not be completed."

    def __init__(self, message: str | None = None) -> None:
        super().__init__(message or self.message)
        self.detail = message or self.message


@dataclass(frozen=True, slots=True)
class FieldError:
    field: str
    message: str


class ValidationFailed(DomainError):
    code = "validation_failed"
    message = "The request is not valid."  # its errors name the field, body or query

    def __init__(self, errors: list[FieldError], message: str | None = None) -> None:
        super().__init__(message)
        self.errors = errors


class EmailTaken(DomainError):
    code = "email_taken"
    message = "An account with this email already exists."


class InvalidCredentials(DomainError):
    code = "invalid_credentials"
    message = "Invalid email or password."


class InvalidRefreshToken(DomainError):
    code = "invalid_refresh_token"
    message = "The refresh token is missing, unknown, expired or revoked."


class RefreshTokenReused(DomainError):
    code = "refresh_token_reused"
    message = "This refresh token was already used; the session has been revoked."


class InvalidAccessToken(DomainError):
    code = "invalid_token"
    message = "The access token is missing, invalid, expired or revoked."


class SessionNotFound(DomainError):
    code = "session_not_found"
    message = "No such session."


class StorageUnavailable(DomainError):
    code = "service_unavailable"
    message = "A storage backend is unavailable. Try again shortly."

    def __init__(self, message: str | None = None, *, backend: str = "database") -> None:
        super().__init__(message)
        self.backend = backend  # "database" or "grants": which one to name in logs and metrics


def cause_of(error: BaseException) -> str:
    """For a log line: what is behind ``error`` (a driver's error, a timeout), by its type and
    its words; its type alone when it has none (a bare ``TimeoutError``)."""
    cause = error.__cause__ or error
    words = str(cause)
    return f"{type(cause).__name__}: {words}" if words else type(cause).__name__


class CaptchaFailed(DomainError):
    code = "captcha_failed"
    message = "The captcha check failed."


class CaptchaUnavailable(DomainError):
    code = "captcha_unavailable"
    message = "The captcha service could not be reached. Try again shortly."


class TooManyRequests(DomainError):
    code = "too_many_requests"
    message = "Too many attempts. Try again later."

    def __init__(self, retry_after: int, message: str | None = None) -> None:
        super().__init__(message)
        self.retry_after = max(1, retry_after)


class InvalidOAuthState(DomainError):
    code = "invalid_oauth_state"
    message = "The sign-in attempt is unknown, expired or was already used."


class InvalidReturnTo(DomainError):
    code = "invalid_return_to"
    message = "return_to is not an allowed destination."


class IdentityProviderError(DomainError):
    """The provider refused the sign-in (an ``error=`` callback or a bad ID token)."""

    code = "identity_provider_error"
    message = "The identity provider did not confirm the sign-in."

    def __init__(self, provider_code: str, message: str | None = None) -> None:
        super().__init__(message)
        self.provider_code = provider_code


class IdentityProviderUnavailable(DomainError):
    code = "identity_provider_unavailable"
    message = "The identity provider could not be reached. Try again shortly."


class UnknownProvider(DomainError):
    code = "unknown_provider"
    message = "No such sign-in provider is configured."


class UnverifiedEmail(DomainError):
    code = "email_not_verified"
    message = "The identity provider has not verified this email address."


class AccountDisabled(DomainError):
    code = "account_disabled"
    message = "This account has been disabled."


class Forbidden(DomainError):
    code = "forbidden"
    message = "This needs the admin role."


class UserNotFound(DomainError):
    code = "user_not_found"
    message = "No such user."


class WebhookNotFound(DomainError):
    code = "webhook_not_found"
    message = "No such webhook endpoint or delivery."


class OwnAccount(DomainError):
    code = "own_account"
    message = (
        "Admins cannot disable, delete or demote their own account, nor reset its second factors."
    )


class LastAdmin(DomainError):
    code = "last_admin"
    message = "This is the last active admin: make another user an admin first."


class EmailNotVerified(DomainError):
    """A correct password on an account whose email is unverified (when that is required)."""

    code = "email_not_verified"
    message = "Verify your email address before signing in."


class EmailAlreadyVerified(DomainError):
    code = "email_already_verified"
    message = "This email address is already verified."


class InvalidVerificationToken(DomainError):
    code = "invalid_verification_token"
    message = "The verification link is unknown, expired or was already used."


class InvalidResetToken(DomainError):
    code = "invalid_reset_token"
    message = "The reset link is unknown, expired or was already used."


class InvalidEmailCode(DomainError):
    """A wrong, expired or spent sign-in code, or one sent from another browser than the one
    that asked for it."""

    code = "invalid_email_code"
    message = "The code is wrong, expired, already used, or was asked for in another browser."


class InvalidEmailLink(DomainError):
    code = "invalid_email_link"
    message = "The sign-in link is unknown, expired or was already used."


class InvalidSecureToken(DomainError):
    code = "invalid_secure_token"
    message = "The link is unknown, expired or was already used."


class NoPasswordSet(DomainError):
    code = "no_password_set"
    message = "This account has no password; use 'forgot password' to set one."


class InvalidReceiver(DomainError):
    """A poll for security events without the bearer token of a configured receiver."""

    code = "invalid_token"
    message = "A receiver's bearer token is required (AUTH_SSF_RECEIVERS)."


class SignalStreamNotFound(DomainError):
    """No stream of this id is the receiver's: never opened, closed, or gone idle."""

    code = "stream_not_found"
    message = "This receiver has no such stream; open one with POST /ssf/stream."


class TooManySignalStreams(DomainError):
    code = "too_many_streams"
    message = (
        "This receiver has as many streams as it may; close one (DELETE /ssf/stream) or wait"
        " for an unpolled one to go."
    )


class PasswordAlreadySet(DomainError):
    code = "password_already_set"
    message = "This account has a password already; change it with the current one."


class InvalidClient(DomainError):
    """A caller of a client-authenticated endpoint (token introspection) whose credentials
    are missing or wrong (RFC 6749 §5.2 ``invalid_client``)."""

    code = "invalid_client"
    message = "Client authentication failed."


class InsufficientUserAuthentication(DomainError):
    """A sensitive action without a recent enough, or strong enough, proof of the user
    (RFC 9470 §3): ``POST /auth/reauthenticate``, then try again."""

    code = "insufficient_user_authentication"
    message = "Confirm it's you: authenticate again (POST /auth/reauthenticate), then retry."

    def __init__(self, max_age: int, acr_values: str | None = None) -> None:
        super().__init__(
            "Confirm it's you with a second factor (POST /auth/reauthenticate), then retry."
            if acr_values
            else None
        )
        self.max_age = max_age
        self.acr_values = acr_values


class MfaRequired(DomainError):
    """A right password on an account with a second factor: no session yet, only a
    short-lived token that ``POST /auth/login/mfa`` takes with a code."""

    code = "mfa_required"
    message = "This account has a second factor: send a code with the mfa_token."

    def __init__(self, mfa_token: str, methods: tuple[str, ...]) -> None:
        super().__init__()
        self.mfa_token = mfa_token
        self.methods = methods


class InvalidMfaToken(DomainError):
    code = "invalid_mfa_token"
    message = "The sign-in attempt is unknown, expired, used or had too many wrong codes."


class InvalidMfaCode(DomainError):
    code = "invalid_mfa_code"
    message = "The code is wrong or was already used."


class TotpAlreadyEnabled(DomainError):
    code = "totp_already_enabled"
    message = "An authenticator app is already set up; remove it first to set up another."


class TotpNotEnabled(DomainError):
    code = "totp_not_enabled"
    message = "No authenticator app is set up for this account."


class TotpSetupRequired(DomainError):
    code = "totp_setup_required"
    message = "No authenticator app setup is in progress: start with /auth/mfa/totp/setup."


class InvalidPasskeyRegistration(DomainError):
    code = "invalid_passkey_registration"
    message = "The passkey could not be registered: the response did not verify."


class InvalidPasskey(DomainError):
    code = "invalid_passkey"
    message = "The passkey sign-in did not verify."


class PasskeyExists(DomainError):
    code = "passkey_exists"
    message = "This passkey is already registered."


class PasskeyNotFound(DomainError):
    code = "passkey_not_found"
    message = "No such passkey."


class PasswordBreached(DomainError):
    code = "password_breached"
    message = "This password appears in known data breaches. Choose another one."
