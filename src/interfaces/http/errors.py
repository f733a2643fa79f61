"""The one table from errors to RFC 9457 problem details, rendered by Litestar's
``ProblemDetailsPlugin``: every error answer is ``application/problem+json`` with a stable
``code`` (and ``errors`` per field for validation)."""

from __future__ import annotations

import logging
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from http import HTTPStatus
from typing import Any

from litestar.exceptions import HTTPException, ValidationException
from litestar.plugins.problem_details import (
    ProblemDetailsConfig,
    ProblemDetailsException,
    ProblemDetailsPlugin,
)

from domain import errors as e
from interfaces.http.observability.context import note_refusal
from interfaces.http.observability.outages import backend_of

log = logging.getLogger("authgate")

STATUS: dict[type[e.DomainError], int] = {
    e.ValidationFailed: 422,
    e.EmailTaken: 409,
    e.InvalidCredentials: 401,
    e.InvalidRefreshToken: 401,
    e.RefreshTokenReused: 401,
    e.InvalidAccessToken: 401,
    e.InsufficientUserAuthentication: 401,
    e.SessionNotFound: 404,
    e.StorageUnavailable: 503,
    e.CaptchaFailed: 403,
    e.CaptchaUnavailable: 503,
    e.TooManyRequests: 429,
    e.InvalidOAuthState: 400,
    e.InvalidReturnTo: 400,
    e.IdentityProviderError: 400,
    e.IdentityProviderUnavailable: 503,
    e.UnknownProvider: 404,
    e.UnverifiedEmail: 409,
    e.AccountDisabled: 403,
    e.Forbidden: 403,
    e.UserNotFound: 404,
    e.WebhookNotFound: 404,
    e.OwnAccount: 409,
    e.LastAdmin: 409,
    e.EmailNotVerified: 403,
    e.EmailAlreadyVerified: 409,
    e.InvalidVerificationToken: 400,
    e.InvalidResetToken: 400,
    e.InvalidEmailCode: 401,
    e.InvalidEmailLink: 400,
    e.InvalidSecureToken: 400,
    e.NoPasswordSet: 409,
    e.PasswordAlreadySet: 409,
    e.InvalidClient: 401,
    e.InvalidReceiver: 401,
    e.SignalStreamNotFound: 404,
    e.TooManySignalStreams: 409,
    e.MfaRequired: 401,
    e.InvalidMfaToken: 401,
    e.InvalidMfaCode: 401,
    e.TotpAlreadyEnabled: 409,
    e.TotpNotEnabled: 409,
    e.TotpSetupRequired: 409,
    e.InvalidPasskeyRegistration: 400,
    e.InvalidPasskey: 401,
    e.PasskeyExists: 409,
    e.PasskeyNotFound: 404,
    e.PasswordBreached: 422,
}

_HTTP_CODES = {
    400: "bad_request",
    401: "unauthorized",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    413: "payload_too_large",
    415: "unsupported_media_type",
    429: "too_many_requests",
}
_SAFE_CODE = re.compile(r"^[a-z][a-z0-9_]{0,63}$")
# Litestar files a missing member under the body as a whole; msgspec's message names it.
_MISSING_MEMBER = re.compile(r"^Object missing required field `([^`]+)`$")


@dataclass(frozen=True, slots=True)
class RingProblem:
    """A problem the HTTP ring finds itself (bad body, foreign origin, …)."""

    status: int
    code: str
    detail: str

    def error(self, detail: str | None = None) -> ProblemDetailsException:
        return problem(self.status, self.code, detail or self.detail)


BAD_REQUEST = RingProblem(400, "bad_request", "The request could not be understood.")
MALFORMED_JSON = RingProblem(400, "malformed_json", "The body is not valid UTF-8 JSON.")
MALFORMED_FORM = RingProblem(400, "malformed_body", "The form body is not valid.")
TWO_CREDENTIALS = RingProblem(400, "invalid_request", "Send one Authorization header, not several.")
FOREIGN_ORIGIN = RingProblem(
    403, "origin_not_allowed", "Requests from this origin are not allowed."
)
TOO_LARGE = RingProblem(413, "payload_too_large", "The body is too large.")
NOT_JSON = RingProblem(415, "unsupported_media_type", "Send the body as application/json.")
SIGNALS_OFF = RingProblem(
    404, "not_found", "Shared Signals are off: no AUTH_SSF_RECEIVERS are configured."
)
EMAIL_SIGN_IN_OFF = RingProblem(
    404, "not_found", "Sign-in by email is off: AUTH_EMAIL_SIGNIN is not set."
)
INTROSPECTION_OFF = RingProblem(
    404, "not_found", "Token introspection is off: no AUTH_INTROSPECTION_CLIENTS are configured."
)


def problem(
    status: int,
    code: str,
    detail: str,
    *,
    errors: list[dict[str, str]] | None = None,
    headers: dict[str, str] | None = None,
    members: dict[str, Any] | None = None,
) -> ProblemDetailsException:
    extra: dict[str, Any] = {"code": code, **(members or {})}
    if errors is not None:
        extra["errors"] = errors
    return ProblemDetailsException(
        detail=detail,
        status_code=status,
        type_="about:blank",
        title=HTTPStatus(status).phrase,
        extra=extra,
        headers={"Cache-Control": "no-store", **(headers or {})},
    )


def from_domain(exc: e.DomainError) -> ProblemDetailsException:
    status = STATUS.get(type(exc), 400)
    headers: dict[str, str] = {}
    code = exc.code
    errors = None
    members: dict[str, Any] = {}
    if isinstance(exc, e.MfaRequired):
        members = {"mfa_token": exc.mfa_token, "methods": list(exc.methods)}
    elif isinstance(exc, e.ValidationFailed):
        errors = [{"field": f.field, "message": f.message} for f in exc.errors]
    elif isinstance(exc, e.InsufficientUserAuthentication):
        # RFC 9470 §3: the challenge names what would do; the body repeats it for clients
        # that read problems rather than headers.
        challenge = f'Bearer error="insufficient_user_authentication", max_age={exc.max_age}'
        members = {"max_age": exc.max_age}
        if exc.acr_values:
            challenge += f', acr_values="{exc.acr_values}"'
            members["acr_values"] = exc.acr_values
        headers["WWW-Authenticate"] = challenge
    elif isinstance(exc, e.InvalidAccessToken | e.InvalidReceiver):
        headers["WWW-Authenticate"] = 'Bearer error="invalid_token"'
    elif isinstance(exc, e.InvalidClient):
        # RFC 6749 §5.2: a 401 names the scheme the client should authenticate with.
        headers["WWW-Authenticate"] = 'Basic realm="authgate"'
    elif isinstance(exc, e.TooManyRequests):
        headers["Retry-After"] = str(exc.retry_after)
    elif isinstance(exc, e.IdentityProviderError) and _SAFE_CODE.match(exc.provider_code):
        code = exc.provider_code
    if status == 503:
        headers["Retry-After"] = "5"
        # Not a line per refused request: the outage log counts them (observability).
        note_refusal(backend_of(exc), e.cause_of(exc))
    return problem(status, code, exc.detail, errors=errors, headers=headers, members=members)


def from_validation(exc: ValidationException) -> ProblemDetailsException:
    """Litestar's validation of the body and parameters: 422 with one entry per field."""
    found = exc.extra if isinstance(exc.extra, list) else []
    errors = [_field_error(item) for item in found if isinstance(item, Mapping)]
    if not errors:
        return from_http(exc)
    body_only = all(isinstance(i, Mapping) and i.get("source") == "body" for i in found)
    detail = "The request body is not valid." if body_only else "The request is not valid."
    return problem(422, "validation_failed", detail, errors=errors)


def _field_error(item: Mapping[str, Any]) -> dict[str, str]:
    field, message = str(item.get("key", "data")), str(item.get("message", ""))
    if field == "data":  # the body as a whole
        missing = _MISSING_MEMBER.match(message)
        field = missing.group(1) if missing else "body"
        if not missing and not message.startswith("Expected"):
            message = "A request body is required."
    return {"field": field, "message": message or "is not valid"}


def from_http(exc: HTTPException) -> ProblemDetailsException:
    status = exc.status_code
    if status >= 500:
        log.error("server error: %s", exc.detail)
        return problem(500, "internal_error", "Something went wrong on our side.")
    detail = exc.detail if status != 400 else BAD_REQUEST.detail
    allow = {k.lower(): v for k, v in (exc.headers or {}).items()}.get("allow")
    headers = {"Allow": allow} if allow else None
    return problem(status, _HTTP_CODES.get(status, "bad_request"), detail, headers=headers)


def from_unexpected(exc: Exception) -> ProblemDetailsException:
    log.error("unhandled error", exc_info=exc)
    return problem(500, "internal_error", "Something went wrong on our side.")


def problem_details() -> ProblemDetailsPlugin:
    """Litestar picks the handler of the most specific class, so the order here is free."""
    conversions: dict[type[Exception], Callable[[Any], ProblemDetailsException]] = {
        e.DomainError: from_domain,
        ValidationException: from_validation,
        HTTPException: from_http,
        Exception: from_unexpected,
    }
    return ProblemDetailsPlugin(ProblemDetailsConfig(exception_to_problem_detail_map=conversions))
