from __future__ import annotations

from typing import Any

from litestar import Controller, Request, Response, post
from litestar.params import JSONBody
from litestar.status_codes import HTTP_204_NO_CONTENT

from application.login import LoginCommand
from application.logout import Logout, LogoutCommand
from application.refresh import RefreshCommand
from application.register import RegisterCommand, RegisterUser
from domain import errors as e
from infrastructure.config import Settings
from interfaces.http.auth.requests import LoginRequest, RefreshRequest, RegisterRequest
from interfaces.http.auth.responses import AwaitingVerificationBody
from interfaces.http.cookies import cleared_cookie, signed_up_response, token_response
from interfaces.http.documentation import (
    BODY,
    COOKIE,
    MAYBE_SIGNED_IN,
    JsonOrFormBody,
    OptionalBody,
    problems,
)
from interfaces.http.errors import MALFORMED_FORM
from interfaces.http.json_or_form import ALLOWS_FORM
from interfaces.http.origin import same_origin
from interfaces.http.providers import (
    NO_STORE,
    BearerToken,
    BodyTransport,
    Client,
    Inject,
    RefreshCookie,
    TransportHeader,
    UserAgent,
    body_transport,
    client_of,
    opened,
)
from interfaces.http.responses import TokenBody

# What an empty body means where the body is optional (JSON null is still refused).
NO_TOKEN = RefreshRequest()


class AuthController(Controller):
    path = "/auth"
    tags = ("auth",)

    @post(
        "/register",
        status_code=201,
        guards=[same_origin],
        summary="Create an account and sign in",
        description="With AUTH_REQUIRE_VERIFIED_EMAIL=true the answer is 201 "
        '`{"user", "email_verification_required": true}` only: no tokens and no cookie until '
        "the mailed link verifies the address.",
        responses=problems(
            *BODY,
            *COOKIE,
            e.EmailTaken,
            e.PasswordBreached,
            e.CaptchaFailed,
            e.CaptchaUnavailable,
            e.TooManyRequests,
        ),
    )
    async def register(
        self,
        data: JSONBody[RegisterRequest],
        register: Inject[RegisterUser],
        settings: Inject[Settings],
        client: Client,
        body_transport: BodyTransport,
    ) -> Response[TokenBody | AwaitingVerificationBody]:
        signed_up = await register.execute(
            RegisterCommand(
                email=data.email,
                password=data.password,
                name=data.name,
                captcha_token=data.turnstile_token,
                client=client,
            )
        )
        return signed_up_response(settings, signed_up, in_body=body_transport)

    @post(
        "/login",
        status_code=200,
        guards=[same_origin],
        opt={ALLOWS_FORM: True},
        operation_class=JsonOrFormBody,
        summary="Sign in with email (or username) and password",
        description="An account with a second factor answers 401 `mfa_required` with "
        '`"mfa_token"` and `"methods"` (no cookie, no token): complete it at '
        "`POST /auth/login/mfa`. With AUTH_PWNED_CHECK=true, a password known from breaches "
        'still signs in, with `"password_breached": true` in the body (and one mail); with a '
        "second factor, in the body of the completed second step.",
        responses=problems(
            *BODY,
            MALFORMED_FORM,
            *COOKIE,
            e.InvalidCredentials,
            e.MfaRequired,
            e.EmailNotVerified,
            e.TooManyRequests,
        ),
    )
    async def login(
        self,
        request: Request[Any, Any, Any],
        data: JSONBody[LoginRequest],
        user_agent: UserAgent = None,
        x_auth_transport: TransportHeader = None,
    ) -> Response[TokenBody]:
        # A hot path: no dependency at all (providers.opened).
        service = opened(request)
        email = data.email if data.email is not None else data.username
        if email is None:
            raise e.ValidationFailed(
                [e.FieldError("email", "Object missing required field `email`")]
            )
        client = client_of(request, service.settings, user_agent)
        signed_in = await service.cases.login.execute(
            LoginCommand(email=email, password=data.password, client=client)
        )
        return token_response(
            service.settings,
            signed_in.tokens,
            in_body=body_transport(x_auth_transport),
            user=signed_in.user,
            password_breached=signed_in.password_breached,
        )

    @post(
        "/refresh",
        status_code=200,
        guards=[same_origin],
        operation_class=OptionalBody,
        summary="Rotate the refresh token, get a new access token",
        responses=problems(
            *BODY, *COOKIE, e.InvalidRefreshToken, e.RefreshTokenReused, e.TooManyRequests
        ),
    )
    async def refresh(
        self,
        request: Request[Any, Any, Any],
        refresh_cookie: RefreshCookie,
        user_agent: UserAgent = None,
        x_auth_transport: TransportHeader = None,
        data: JSONBody[RefreshRequest] = NO_TOKEN,
    ) -> Response[TokenBody]:
        # A hot path: the refresh cookie is its one dependency (providers.opened).
        service = opened(request)
        client = client_of(request, service.settings, user_agent)
        in_body = body_transport(x_auth_transport)
        # An answer in the body rotates only a token sent in the body: turned from the
        # cookie, the HttpOnly token would be readable by any script on an allowed origin.
        presented = data.refresh_token if in_body else _refresh_token(refresh_cookie, data)
        tokens = await service.cases.refresh.execute(
            RefreshCommand(refresh_token=presented, client=client)
        )
        return token_response(service.settings, tokens, in_body=in_body)

    @post(
        "/logout",
        status_code=HTTP_204_NO_CONTENT,
        guards=[same_origin],
        operation_class=OptionalBody,
        summary="End this session (idempotent)",
        security=MAYBE_SIGNED_IN,
        responses=problems(*BODY, *COOKIE),
    )
    async def logout(
        self,
        logout: Inject[Logout],
        settings: Inject[Settings],
        client: Client,
        bearer_token: BearerToken,
        refresh_cookie: RefreshCookie,
        data: JSONBody[RefreshRequest] = NO_TOKEN,
    ) -> Response[None]:
        await logout.execute(
            LogoutCommand(
                refresh_token=_refresh_token(refresh_cookie, data),
                bearer_token=bearer_token,
                client=client,
            )
        )
        return Response(None, status_code=204, cookies=[cleared_cookie(settings)], headers=NO_STORE)


def _refresh_token(cookie: str | None, body: RefreshRequest) -> str | None:
    """The cookie, or ``{"refresh_token": …}`` for clients that cannot hold cookies."""
    return cookie or body.refresh_token
