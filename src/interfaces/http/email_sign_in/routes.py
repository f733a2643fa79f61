"""Sign in without a password: a mail with a code (for the browser that asked) and a link
(for any device). Off, with AUTH_EMAIL_SIGNIN unset, both answer 404."""

from __future__ import annotations

from typing import Annotated, Any

import msgspec
from litestar import Controller, Response, post
from litestar.background_tasks import BackgroundTask
from litestar.connection import ASGIConnection
from litestar.handlers import BaseRouteHandler
from litestar.params import CookieParameter, JSONBody
from litestar.status_codes import HTTP_202_ACCEPTED

from application.email_sign_in.complete import EmailSignIn, EmailSignInCommand
from application.email_sign_in.grants import SIGN_IN_TTL
from application.email_sign_in.request import RequestEmailSignIn, RequestEmailSignInCommand
from domain import errors as e
from infrastructure.config import Settings
from interfaces.bootstrap import Service
from interfaces.http.cookies import SIGNIN_PENDING, signin_pending_cookie, token_response
from interfaces.http.documentation import BODY, COOKIE, problems
from interfaces.http.email_sign_in.requests import EmailSignInCompletion, EmailSignInRequest
from interfaces.http.email_sign_in.responses import SignInMailBody
from interfaces.http.errors import EMAIL_SIGN_IN_OFF
from interfaces.http.origin import same_origin
from interfaces.http.providers import NO_STORE, BodyTransport, Client, Inject
from interfaces.http.responses import TokenBody

# The same answer whether or not the address has an account (no enumeration).
MAIL_QUEUED = "If an account uses this address, a mail with a code and a link is on its way."
PendingCookie = Annotated[
    str | None,
    CookieParameter(
        name=SIGNIN_PENDING,
        description="Set by the request for a code: binds the code to this browser.",
    ),
]


def email_sign_in_on(connection: ASGIConnection[Any, Any, Any, Any], _: BaseRouteHandler) -> None:
    service: Service = connection.app.state.service
    if not service.settings.email_signin:
        raise EMAIL_SIGN_IN_OFF.error()


class EmailSignInController(Controller):
    path = "/auth/email/signin"
    tags = ("auth",)

    @post(
        "/request",
        status_code=HTTP_202_ACCEPTED,
        guards=[email_sign_in_on, same_origin],
        summary="Mail a sign-in code and link (the same answer for any email)",
        description="202 for every well-formed address: a known one (or any, with "
        "AUTH_EMAIL_SIGNUP=true) gets one mail with a 6-digit code and a link, one grant "
        "for 10 minutes. The code works only in this browser (the HttpOnly `signin_pending` "
        "cookie; with `X-Auth-Transport: body`, the `request_id` of the answer instead).",
        responses=problems(
            *BODY,
            *COOKIE,
            EMAIL_SIGN_IN_OFF,
            e.CaptchaFailed,
            e.CaptchaUnavailable,
            e.TooManyRequests,
        ),
    )
    async def request_mail(
        self,
        data: JSONBody[EmailSignInRequest],
        request_email_sign_in: Inject[RequestEmailSignIn],
        settings: Inject[Settings],
        client: Client,
        body_transport: BodyTransport,
    ) -> Response[SignInMailBody]:
        requested = await request_email_sign_in.execute(
            RequestEmailSignInCommand(
                email=data.email, captcha_token=data.turnstile_token, client=client
            )
        )
        ttl = int(SIGN_IN_TTL.total_seconds())
        return Response(
            SignInMailBody(
                status="accepted",
                detail=MAIL_QUEUED,
                request_id=requested.request_id if body_transport else msgspec.UNSET,
            ),
            status_code=HTTP_202_ACCEPTED,
            headers=NO_STORE,
            cookies=[]
            if body_transport
            else [signin_pending_cookie(settings, requested.request_id, ttl)],
            background=BackgroundTask(requested.after_answer) if requested.after_answer else None,
        )

    @post(
        "/",
        status_code=200,
        guards=[email_sign_in_on, same_origin],
        summary="Sign in with the mailed code or link",
        description='`{"email", "code"}` from the browser that asked, or `{"token"}` from '
        "the link on any device: 200 with the login body and cookie. The code and the link "
        "spend each other; five wrong codes kill them. An unverified address becomes "
        "verified (the mail proved it; a password set before goes, and every other session "
        "ends). An account with a second factor answers 401 `mfa_required`, as at login.",
        responses=problems(
            *BODY,
            *COOKIE,
            EMAIL_SIGN_IN_OFF,
            e.InvalidEmailCode,
            e.InvalidEmailLink,
            e.MfaRequired,
            e.AccountDisabled,
            e.TooManyRequests,
        ),
    )
    async def sign_in(
        self,
        data: JSONBody[EmailSignInCompletion],
        email_sign_in: Inject[EmailSignIn],
        settings: Inject[Settings],
        client: Client,
        body_transport: BodyTransport,
        pending: PendingCookie = None,
    ) -> Response[TokenBody]:
        signed_in = await email_sign_in.execute(
            EmailSignInCommand(
                client=client,
                email=data.email,
                code=data.code,
                request_id=pending or data.request_id,
                token=data.token,
            )
        )
        response = token_response(
            settings, signed_in.tokens, in_body=body_transport, user=signed_in.user
        )
        if pending:
            response.cookies.append(signin_pending_cookie(settings, None, 0))
        return response
