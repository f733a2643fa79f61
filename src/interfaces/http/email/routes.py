"""Email ownership and account recovery: verify and change the address, forget, reset and
change the password. Mails are only queued here; the outbox sender delivers them."""

from __future__ import annotations

from litestar import Controller, Response, post
from litestar.background_tasks import BackgroundTask
from litestar.params import JSONBody
from litestar.status_codes import HTTP_202_ACCEPTED, HTTP_204_NO_CONTENT

from application.email.address import (
    ChangeEmail,
    ChangeEmailCommand,
    RequestEmailChange,
    RequestEmailChangeCommand,
)
from application.email.change import (
    ChangePassword,
    ChangePasswordCommand,
    SetPassword,
    SetPasswordCommand,
)
from application.email.recovery import (
    ForgotPassword,
    ForgotPasswordCommand,
    ResetPassword,
    ResetPasswordCommand,
)
from application.email.verification import (
    RequestVerification,
    RequestVerificationCommand,
    VerifyEmail,
    VerifyEmailCommand,
)
from domain import errors as e
from interfaces.http.documentation import BODY, COOKIE, SIGNED_IN, problems
from interfaces.http.email.requests import (
    ChangeEmailRequest,
    ChangePasswordRequest,
    EmailChangeRequest,
    ForgotPasswordRequest,
    ResetPasswordRequest,
    SetPasswordRequest,
    VerifyEmailRequest,
)
from interfaces.http.origin import same_origin
from interfaces.http.providers import (
    NO_STORE,
    BearerToken,
    Caller,
    Client,
    Inject,
    RefreshCookie,
)
from interfaces.http.responses import AcceptedBody, MeBody, UserBody

VERIFICATION_QUEUED = AcceptedBody("accepted", "A verification mail is on its way.")
# The same answer whether or not the address has an account (no enumeration).
CHANGE_QUEUED = AcceptedBody("accepted", "A link to confirm the new address is on its way to it.")
RESET_QUEUED = AcceptedBody("accepted", "If an account uses this address, a mail is on its way.")
BEARER = (e.InvalidAccessToken, e.StorageUnavailable)


class EmailController(Controller):
    path = "/auth/email"
    tags = ("email",)

    @post(
        "/verify/request",
        status_code=HTTP_202_ACCEPTED,
        summary="Queue a new verification mail for the signed-in user",
        security=SIGNED_IN,
        responses=problems(*BEARER, e.EmailAlreadyVerified, e.TooManyRequests),
    )
    async def request_verification(
        self, caller: Caller, request_verification: Inject[RequestVerification], client: Client
    ) -> Response[AcceptedBody]:
        await request_verification.execute(RequestVerificationCommand(caller=caller, client=client))
        return Response(VERIFICATION_QUEUED, status_code=HTTP_202_ACCEPTED, headers=NO_STORE)

    @post(
        "/verify",
        status_code=200,
        # It reads the refresh cookie (the session it keeps): a cross-site POST is refused
        # as at every endpoint that does (API.md, CSRF).
        guards=[same_origin],
        summary="Verify the email address with the mailed token",
        description="Second factors added before the address was verified are removed, and "
        "every session of the account ends but the caller's own (its refresh cookie or "
        "Bearer token, when it sends one).",
        responses=problems(*BODY, *COOKIE, e.InvalidVerificationToken),
    )
    async def verify(
        self,
        data: JSONBody[VerifyEmailRequest],
        verify_email: Inject[VerifyEmail],
        client: Client,
        bearer_token: BearerToken,
        refresh_cookie: RefreshCookie,
    ) -> Response[MeBody]:
        user = await verify_email.execute(
            VerifyEmailCommand(
                token=data.token,
                client=client,
                refresh_token=refresh_cookie,
                bearer_token=bearer_token,
            )
        )
        return Response(MeBody(user=UserBody.of(user)), headers=NO_STORE)

    @post(
        "/change/request",
        status_code=HTTP_202_ACCEPTED,
        summary="Ask to change the email address: a confirmation link goes to the new one",
        security=SIGNED_IN,
        description="A sensitive action (step-up). Nothing changes until the link mailed to "
        "the new address is opened (`POST /auth/email/change`); only the last link asked for "
        "works, for an hour, and only while the session that asked lives. An address another "
        "account has answers 409 `email_taken`, as at sign-up.",
        responses=problems(
            e.InsufficientUserAuthentication, *BODY, *BEARER, e.EmailTaken, e.TooManyRequests
        ),
    )
    async def request_change(
        self,
        data: JSONBody[EmailChangeRequest],
        caller: Caller,
        request_email_change: Inject[RequestEmailChange],
        client: Client,
    ) -> Response[AcceptedBody]:
        await request_email_change.execute(
            RequestEmailChangeCommand(caller=caller, email=data.email, client=client)
        )
        return Response(CHANGE_QUEUED, status_code=HTTP_202_ACCEPTED, headers=NO_STORE)

    @post(
        "/change",
        status_code=200,
        guards=[same_origin],  # it reads the refresh cookie, as /verify does
        summary="Change the email address with the token mailed to the new one",
        description="The account takes the new address, verified. The old address gets a "
        'notice with a "this wasn\'t me" link (`POST /auth/account/secure`) that gives it '
        "back; reset and verification links mailed to it die. Every session of the account "
        "ends but the caller's own (its refresh cookie or Bearer token, when it sends one).",
        responses=problems(*BODY, *COOKIE, e.InvalidVerificationToken, e.EmailTaken),
    )
    async def change(
        self,
        data: JSONBody[ChangeEmailRequest],
        change_email: Inject[ChangeEmail],
        client: Client,
        bearer_token: BearerToken,
        refresh_cookie: RefreshCookie,
    ) -> Response[MeBody]:
        user = await change_email.execute(
            ChangeEmailCommand(
                token=data.token,
                client=client,
                refresh_token=refresh_cookie,
                bearer_token=bearer_token,
            )
        )
        return Response(MeBody(user=UserBody.of(user)), headers=NO_STORE)


class PasswordController(Controller):
    path = "/auth/password"
    tags = ("password",)

    @post(
        "/forgot",
        status_code=HTTP_202_ACCEPTED,
        summary="Queue a password reset mail (the same answer for any email)",
        responses=problems(
            *BODY, e.CaptchaFailed, e.CaptchaUnavailable, e.TooManyRequests, e.StorageUnavailable
        ),
    )
    async def forgot(
        self,
        data: JSONBody[ForgotPasswordRequest],
        forgot_password: Inject[ForgotPassword],
        client: Client,
    ) -> Response[AcceptedBody]:
        after_answer = await forgot_password.execute(
            ForgotPasswordCommand(
                email=data.email, captcha_token=data.turnstile_token, client=client
            )
        )
        return Response(
            RESET_QUEUED,
            status_code=HTTP_202_ACCEPTED,
            headers=NO_STORE,
            background=BackgroundTask(after_answer) if after_answer else None,
        )

    @post(
        "/reset",
        status_code=HTTP_204_NO_CONTENT,
        summary="Set a new password with the mailed token; every session ends",
        responses=problems(*BODY, e.InvalidResetToken, e.PasswordBreached, e.StorageUnavailable),
    )
    async def reset(
        self,
        data: JSONBody[ResetPasswordRequest],
        reset_password: Inject[ResetPassword],
        client: Client,
    ) -> None:
        await reset_password.execute(
            ResetPasswordCommand(token=data.token, new_password=data.new_password, client=client)
        )

    @post(
        "/change",
        status_code=HTTP_204_NO_CONTENT,
        summary="Change the password; every other session ends",
        security=SIGNED_IN,
        responses=problems(
            e.InsufficientUserAuthentication,
            *BODY,
            *BEARER,
            e.InvalidCredentials,
            e.NoPasswordSet,
            e.PasswordBreached,
            e.TooManyRequests,
        ),
    )
    async def change(
        self,
        data: JSONBody[ChangePasswordRequest],
        caller: Caller,
        change_password: Inject[ChangePassword],
        client: Client,
    ) -> None:
        await change_password.execute(
            ChangePasswordCommand(
                caller=caller,
                current_password=data.current_password,
                new_password=data.new_password,
                client=client,
            )
        )

    @post(
        "/set",
        status_code=HTTP_204_NO_CONTENT,
        summary="Set a first password (an account without one); every other session ends",
        security=SIGNED_IN,
        description="For an account that signs in with a passkey or a provider only. A "
        "sensitive action: a recent proof (step-up) stands in for the current password. An "
        "account with a password answers 409 `password_already_set`: change it at "
        "`POST /auth/password/change`.",
        responses=problems(
            e.InsufficientUserAuthentication,
            *BODY,
            *BEARER,
            e.PasswordAlreadySet,
            e.PasswordBreached,
        ),
    )
    async def set_first(
        self,
        data: JSONBody[SetPasswordRequest],
        caller: Caller,
        set_password: Inject[SetPassword],
        client: Client,
    ) -> None:
        await set_password.execute(
            SetPasswordCommand(caller=caller, new_password=data.new_password, client=client)
        )
