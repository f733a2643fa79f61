from __future__ import annotations

from typing import Any

from litestar import Controller, Request, Response, get, post
from litestar.di import NamedDependency
from litestar.params import SkipValidation
from litestar.status_codes import HTTP_204_NO_CONTENT

from application.login import LoginCommand
from application.logout import LogoutCommand
from application.refresh import RefreshCommand
from application.register import RegisterCommand
from application.sessions import RevokeCommand
from domain.ports import AccessClaims
from interfaces.http.bodies import (
    FieldErrorBody,
    LoginRequest,
    MeBody,
    RefreshRequest,
    RegisterRequest,
    RevokeRequest,
    TokenBody,
    UserBody,
)
from interfaces.http.container import Container
from interfaces.http.decoding import FORM, media_type, read_form, read_json
from interfaces.http.errors import ProblemError
from interfaces.http.openapi import body_of
from interfaces.http.transport import (
    bearer_token,
    check_origin,
    cleared_cookie,
    client_info,
    token_response,
)

# Explicit name-based injection; our own objects need no validation by the signature model.
Caller = NamedDependency[SkipValidation[AccessClaims]]
Services = NamedDependency[SkipValidation[Container]]
NO_STORE = {"Cache-Control": "no-store"}


class AuthController(Controller):
    path = "/auth"
    tags = ("auth",)

    @post(
        "/register",
        status_code=201,
        operation_class=body_of(RegisterRequest),
        summary="Create an account and sign in",
    )
    async def register(
        self, request: Request[Any, Any, Any], services: Services
    ) -> Response[TokenBody]:
        body = await read_json(request, RegisterRequest)
        signed_in = await services.cases.register.execute(
            RegisterCommand(
                email=body.email,
                password=body.password,
                name=body.name,
                captcha_token=body.turnstile_token,
                client=client_info(request, services.settings),
            )
        )
        return token_response(
            request, services.settings, signed_in.tokens, user=signed_in.user, status=201
        )

    @post(
        "/login",
        status_code=200,
        operation_class=body_of(LoginRequest, form=True),
        summary="Sign in with email (or username) and password",
    )
    async def login(
        self, request: Request[Any, Any, Any], services: Services
    ) -> Response[TokenBody]:
        if media_type(request) == FORM:
            body = await read_form(request, LoginRequest)
        else:
            body = await read_json(request, LoginRequest)
        email = body.email if body.email is not None else body.username
        if email is None:
            raise ProblemError(
                422,
                "validation_failed",
                "The request body is not valid.",
                errors=[_missing("email")],
            )
        signed_in = await services.cases.login.execute(
            LoginCommand(
                email=email, password=body.password, client=client_info(request, services.settings)
            )
        )
        return token_response(request, services.settings, signed_in.tokens, user=signed_in.user)

    @post(
        "/refresh",
        status_code=200,
        operation_class=body_of(RefreshRequest, required=False),
        summary="Rotate the refresh token, get a new access token",
    )
    async def refresh(
        self, request: Request[Any, Any, Any], services: Services
    ) -> Response[TokenBody]:
        check_origin(request, services.settings)
        token = await _refresh_token(request, services)
        tokens = await services.cases.refresh.execute(
            RefreshCommand(refresh_token=token, client=client_info(request, services.settings))
        )
        return token_response(request, services.settings, tokens)

    @post(
        "/logout",
        status_code=HTTP_204_NO_CONTENT,
        operation_class=body_of(RefreshRequest, required=False),
        summary="End this session (idempotent)",
    )
    async def logout(self, request: Request[Any, Any, Any], services: Services) -> Response[None]:
        check_origin(request, services.settings)
        await services.cases.logout.execute(
            LogoutCommand(
                refresh_token=await _refresh_token(request, services),
                bearer_token=bearer_token(request),
                client=client_info(request, services.settings),
            )
        )
        return Response(
            None, status_code=204, cookies=[cleared_cookie(services.settings)], headers=NO_STORE
        )

    @get("/me", summary="The signed-in user")
    async def me(self, caller: Caller, services: Services) -> Response[MeBody]:
        user = await services.cases.current_user.execute(caller)
        return Response(MeBody(user=UserBody.of(user)), headers=NO_STORE)

    @post(
        "/revoke",
        status_code=HTTP_204_NO_CONTENT,
        operation_class=body_of(RevokeRequest, required=False),
        summary="Sign out everywhere",
    )
    async def revoke(
        self, request: Request[Any, Any, Any], caller: Caller, services: Services
    ) -> None:
        body = await read_json(request, RevokeRequest, optional=True)
        await services.cases.revoke_sessions.execute(
            RevokeCommand(
                caller=caller,
                keep_current=body.keep_current,
                client=client_info(request, services.settings),
            )
        )


async def _refresh_token(request: Request[Any, Any, Any], services: Services) -> str | None:
    """The cookie, or ``{"refresh_token": …}`` for clients that cannot hold cookies."""
    cookie = request.cookies.get(services.settings.cookie_name)
    if cookie:
        return cookie
    body = await read_json(request, RefreshRequest, optional=True)
    return body.refresh_token


def _missing(field: str) -> FieldErrorBody:
    return FieldErrorBody(field=field, message=f"Object missing required field `{field}`")
