"""The one table from errors to RFC 9457 problem details."""

from __future__ import annotations

import logging
import re
from http import HTTPStatus
from typing import Any

import msgspec
from litestar import Request, Response
from litestar.exceptions import HTTPException

from domain import errors as e
from interfaces.http.bodies import FieldErrorBody, Problem

log = logging.getLogger("authgate")

STATUS: dict[type[e.DomainError], int] = {
    e.ValidationFailed: 422,
    e.EmailTaken: 409,
    e.InvalidCredentials: 401,
    e.InvalidRefreshToken: 401,
    e.RefreshTokenReused: 401,
    e.InvalidAccessToken: 401,
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


class ProblemError(Exception):
    """A problem found by the HTTP ring itself (bad body, foreign origin, …)."""

    def __init__(
        self,
        status: int,
        code: str,
        detail: str,
        errors: list[FieldErrorBody] | None = None,
    ) -> None:
        super().__init__(detail)
        self.status, self.code, self.detail, self.errors = status, code, detail, errors


def problem(
    status: int,
    code: str,
    detail: str,
    *,
    errors: list[FieldErrorBody] | None = None,
    headers: dict[str, str] | None = None,
) -> Response[Problem]:
    body = Problem(
        title=HTTPStatus(status).phrase,
        status=status,
        detail=detail,
        code=code,
        errors=errors if errors is not None else msgspec.UNSET,
    )
    return Response(
        body,
        status_code=status,
        media_type="application/problem+json",
        headers={"Cache-Control": "no-store", **(headers or {})},
    )


def domain_error(_: Request[Any, Any, Any], exc: e.DomainError) -> Response[Problem]:
    status = STATUS.get(type(exc), 400)
    headers: dict[str, str] = {}
    code = exc.code
    errors = None
    if isinstance(exc, e.ValidationFailed):
        errors = [FieldErrorBody(field=f.field, message=f.message) for f in exc.errors]
    elif isinstance(exc, e.InvalidAccessToken):
        headers["WWW-Authenticate"] = 'Bearer error="invalid_token"'
    elif isinstance(exc, e.TooManyRequests):
        headers["Retry-After"] = str(exc.retry_after)
    elif isinstance(exc, e.IdentityProviderError) and _SAFE_CODE.match(exc.provider_code):
        code = exc.provider_code
    if status == 503:
        headers["Retry-After"] = "5"
        log.warning("backend unavailable: %s", exc.__cause__ or exc)
    return problem(status, code, exc.detail, errors=errors, headers=headers)


def problem_error(_: Request[Any, Any, Any], exc: ProblemError) -> Response[Problem]:
    return problem(exc.status, exc.code, exc.detail, errors=exc.errors)


def http_error(_: Request[Any, Any, Any], exc: HTTPException) -> Response[Problem]:
    status = exc.status_code
    if status >= 500:
        log.error("server error: %s", exc.detail)
        return problem(500, "internal_error", "Something went wrong on our side.")
    detail = exc.detail if status != 400 else "The request could not be understood."
    allow = {k.lower(): v for k, v in (exc.headers or {}).items()}.get("allow")
    headers = {"Allow": allow} if allow else None
    return problem(status, _HTTP_CODES.get(status, "bad_request"), detail, headers=headers)


def unexpected_error(_: Request[Any, Any, Any], exc: Exception) -> Response[Problem]:
    log.error("unhandled error", exc_info=exc)
    return problem(500, "internal_error", "Something went wrong on our side.")


EXCEPTION_HANDLERS = {
    e.DomainError: domain_error,
    ProblemError: problem_error,
    HTTPException: http_error,
    Exception: unexpected_error,
}
