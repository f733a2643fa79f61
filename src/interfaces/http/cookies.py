"""How tokens travel: the token response, in the JSON body or with the refresh token in an
HttpOnly cookie."""

from __future__ import annotations

import msgspec
from litestar import Response
from litestar.datastructures import Cookie

from application.mfa.attempts import MFA_TOKEN_TTL
from application.register import AwaitingVerification
from application.session_issuer import IssuedTokens, SignedIn
from domain.entities import User
from infrastructure.config import Settings
from interfaces.http.auth.responses import AwaitingVerificationBody
from interfaces.http.responses import TokenBody, UserBody

MFA_PENDING = "mfa_pending"
MFA_PENDING_PATH = "/auth/login/mfa"
DEVICE = "device"
# Browsers keep a cookie at most 400 days (RFC 6265bis §5.5); each sign-in renews it.
DEVICE_MAX_AGE = 400 * 86400
SIGNIN_PENDING = "signin_pending"
SIGNIN_PENDING_PATH = "/auth/email/signin"


def token_response(
    settings: Settings,
    tokens: IssuedTokens,
    *,
    in_body: bool,
    user: User | None = None,
    status: int = 200,
    password_breached: bool = False,
) -> Response[TokenBody]:
    body = TokenBody(
        access_token=tokens.access_token,
        expires_in=tokens.expires_in,
        user=UserBody.of(user) if user else msgspec.UNSET,
        refresh_token=tokens.refresh_token if in_body else msgspec.UNSET,
        refresh_expires_in=tokens.refresh_expires_in if in_body else msgspec.UNSET,
        password_breached=True if password_breached else msgspec.UNSET,
    )
    cookies = [] if in_body else sign_in_cookies(settings, tokens)
    # RFC 6749 §5.1: token responses must not be cached.
    return Response(
        body,
        status_code=status,
        cookies=cookies,
        headers={"Cache-Control": "no-store", "Pragma": "no-cache"},
    )


def signed_up_response(
    settings: Settings, outcome: SignedIn | AwaitingVerification, *, in_body: bool
) -> Response[TokenBody | AwaitingVerificationBody]:
    """A sign-up's 201: the register body and cookie, or under AUTH_REQUIRE_VERIFIED_EMAIL
    the user alone (no session until the mailed link is opened)."""
    if isinstance(outcome, AwaitingVerification):
        body = AwaitingVerificationBody(
            user=UserBody.of(outcome.user), email_verification_required=True
        )
        return Response(body, status_code=201, headers={"Cache-Control": "no-store"})
    return token_response(  # type: ignore[return-value]
        settings, outcome.tokens, in_body=in_body, user=outcome.user, status=201
    )


def refresh_cookie(settings: Settings, value: str, max_age: int) -> Cookie:
    # OWASP ASVS V3.4: HttpOnly so scripts never see it, Secure, SameSite, narrow Path.
    return Cookie(
        key=settings.cookie_name,
        value=value,
        max_age=max_age,
        path=settings.cookie_path,
        secure=settings.cookie_secure,
        httponly=True,
        samesite=settings.cookie_samesite,
    )


def sign_in_cookies(settings: Settings, tokens: IssuedTokens) -> list[Cookie]:
    """The refresh cookie, and at a sign-in the device cookie (a client without cookies
    keeps its own ``X-Device-Id``)."""
    cookies = [refresh_cookie(settings, tokens.refresh_token, tokens.refresh_expires_in)]
    if tokens.device is not None:
        cookies.append(device_cookie(settings, tokens.device))
    return cookies


def device_cookie(settings: Settings, device: str) -> Cookie:
    """Which browser this is, for the new-device notice: no credential, but HttpOnly all the
    same, so a script cannot copy it to pass as a known device."""
    return Cookie(
        key=DEVICE,
        value=device,
        max_age=DEVICE_MAX_AGE,
        path="/auth",
        secure=settings.cookie_secure,
        httponly=True,
        samesite="lax",
    )


def signin_pending_cookie(settings: Settings, request_id: str | None, max_age: int) -> Cookie:
    """The request an email sign-in code is bound to (None: cleared): only the browser that
    asked for the mail holds it, so a code read off another screen does nothing elsewhere
    (ASVS 5.0 V6.6: out-of-band codes bound to their request)."""
    return Cookie(
        key=SIGNIN_PENDING,
        value=request_id or "",
        max_age=max_age if request_id else 0,
        path=SIGNIN_PENDING_PATH,
        secure=settings.cookie_secure,
        httponly=True,
        samesite="strict",
    )


def cleared_cookie(settings: Settings) -> Cookie:
    return refresh_cookie(settings, "", 0)


def mfa_pending_cookie(settings: Settings, mfa_token: str | None) -> Cookie:
    """The ``mfa_token`` of a provider sign-in waiting for its second step (None: cleared).

    A cookie, never the URL the browser is sent to (RFC 9700 §4.3.2: nothing that opens a
    session travels in a URL); HttpOnly, sent to the second step only, and Lax whatever
    AUTH_COOKIE_SAMESITE says, as the provider's redirect back is a cross-site GET."""
    return Cookie(
        key=MFA_PENDING,
        value=mfa_token or "",
        max_age=int(MFA_TOKEN_TTL.total_seconds()) if mfa_token else 0,
        path=MFA_PENDING_PATH,
        secure=settings.cookie_secure,
        httponly=True,
        samesite="lax",
    )
