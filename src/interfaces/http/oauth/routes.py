from __future__ import annotations

from typing import Annotated, Any

from litestar import Controller, Response, get
from litestar.datastructures import Cookie
from litestar.params import CookieParameter, FromPath, FromQuery, QueryParameter
from litestar.response import Redirect

from application.oauth import (
    STATE_TTL,
    CompleteOAuth,
    CompleteOAuthCommand,
    OAuthSecondStep,
    StartOAuth,
    StartOAuthCommand,
)
from domain import errors as e
from infrastructure.config import Settings
from interfaces.http.cookies import mfa_pending_cookie, sign_in_cookies, token_response
from interfaces.http.documentation import problems
from interfaces.http.providers import NO_STORE, BodyTransport, Client, Inject

STATE_COOKIE = "oauth_state"
# "state" is a name Litestar reserves for the application state, hence the aliases.
OAuthState = Annotated[str | None, QueryParameter(name="state")]
KeptState = Annotated[str | None, CookieParameter(name=STATE_COOKIE)]
# Seconds: the provider signs the user in again if their last sign-in there is older
# (OpenID Connect Core §3.1.2.1), for a session that passes step-up; at most a year.
MaxAge = Annotated[int | None, QueryParameter(ge=0, le=366 * 86400)]


class OAuthController(Controller):
    path = "/auth"
    tags = ("auth",)

    @get(
        "/{provider:str}/start",
        status_code=302,
        summary="Sign in with an identity provider",
        responses=problems(
            e.UnknownProvider,
            e.InvalidReturnTo,
            e.ValidationFailed,
            e.TooManyRequests,
            e.StorageUnavailable,
        ),
    )
    async def start(
        self,
        provider: FromPath[str],
        start_oauth: Inject[StartOAuth],
        settings: Inject[Settings],
        client: Client,
        return_to: FromQuery[str | None] = None,
        max_age: MaxAge = None,
    ) -> Redirect:
        started = await start_oauth.execute(
            StartOAuthCommand(
                provider=provider, client=client, return_to=return_to, max_age=max_age
            )
        )
        return Redirect(
            started.authorization_url,
            status_code=302,
            headers=NO_STORE,
            cookies=[_state_cookie(settings, provider, started.state)],
        )

    @get(
        "/{provider:str}/callback",
        summary="Where the identity provider sends the browser back",
        responses=problems(
            e.InvalidOAuthState,
            e.IdentityProviderError,
            e.UnknownProvider,
            e.UnverifiedEmail,
            e.EmailTaken,
            e.IdentityProviderUnavailable,
            e.StorageUnavailable,
            e.MfaRequired,
        ),
    )
    async def callback(
        self,
        provider: FromPath[str],
        complete_oauth: Inject[CompleteOAuth],
        settings: Inject[Settings],
        client: Client,
        body_transport: BodyTransport,
        code: FromQuery[str | None] = None,
        oauth_state: OAuthState = None,
        kept_state: KeptState = None,
        error: FromQuery[str | None] = None,
        error_description: FromQuery[str | None] = None,
    ) -> Response[Any]:
        settings = settings
        result = await complete_oauth.execute(
            CompleteOAuthCommand(
                provider=provider,
                state=oauth_state,
                browser_state=kept_state,
                code=code,
                error=error,
                error_description=error_description,
                client=client,
            )
        )
        if isinstance(result, OAuthSecondStep):
            return _second_step(settings, result)
        tokens, user = result.signed_in.tokens, result.signed_in.user
        if settings.app_url is None:
            return token_response(settings, tokens, in_body=body_transport, user=user)
        # Tokens never travel in a URL (RFC 9700 §4.3.2): only the HttpOnly refresh cookie
        # is set, and the app calls /auth/refresh for its access token.
        return Redirect(
            settings.app_url + result.return_to,
            status_code=302,
            headers=NO_STORE,
            cookies=sign_in_cookies(settings, tokens),
        )


def _second_step(settings: Settings, result: OAuthSecondStep) -> Response[Any]:
    if settings.app_url is None:
        raise e.MfaRequired(result.mfa_token, result.methods)  # as a password sign-in
    separator = "&" if "?" in result.return_to else "?"
    return Redirect(
        f"{settings.app_url}{result.return_to}{separator}mfa=required",
        status_code=302,
        headers=NO_STORE,
        cookies=[mfa_pending_cookie(settings, result.mfa_token)],
    )


def _state_cookie(settings: Settings, provider: str, state: str) -> Cookie:
    # RFC 9700 §4.7.1: the browser keeps the state, so the callback proves it is the same
    # browser. Lax whatever AUTH_COOKIE_SAMESITE says: the provider's redirect back is a
    # cross-site top-level GET, which Lax lets through and Strict would not.
    return Cookie(
        key=STATE_COOKIE,
        value=state,
        max_age=int(STATE_TTL.total_seconds()),
        path=f"/auth/{provider}/callback",
        secure=settings.cookie_secure,
        httponly=True,
        samesite="lax",
    )
