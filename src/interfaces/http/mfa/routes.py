"""The authenticator app (TOTP) of the signed-in user, and the second step of a password
sign-in."""

from __future__ import annotations

from typing import Annotated

from litestar import Controller, Response, delete, get, post
from litestar.params import CookieParameter, JSONBody
from litestar.status_codes import HTTP_204_NO_CONTENT

from application.mfa.overview import ShowSecondFactors
from application.mfa.sign_in import CompleteMfaSignIn, MfaSignInCommand
from application.mfa.totp import (
    ConfirmTotp,
    DisableTotp,
    DisableTotpCommand,
    RegenerateRecoveryCodes,
    SetupTotp,
    TotpCodeCommand,
)
from domain import errors as e
from infrastructure.config import Settings
from interfaces.http.cookies import MFA_PENDING, mfa_pending_cookie, token_response
from interfaces.http.documentation import BODY, COOKIE, SIGNED_IN, NoContent, problems
from interfaces.http.mfa.requests import DisableTotpRequest, MfaLoginRequest, TotpCodeRequest
from interfaces.http.mfa.responses import (
    AppConfirmedBody,
    RecoveryCodesBody,
    SecondFactorsBody,
    TotpSetupBody,
)
from interfaces.http.origin import same_origin
from interfaces.http.providers import NO_STORE, BodyTransport, Caller, Client, Inject
from interfaces.http.responses import TokenBody

BEARER = (e.InvalidAccessToken, e.StorageUnavailable)
PendingToken = Annotated[str | None, CookieParameter(name=MFA_PENDING)]


class MfaController(Controller):
    path = "/auth/mfa"
    tags = ("second factor",)
    security = SIGNED_IN

    @get(
        "/",
        summary="The caller's second factors: the app on or off, recovery codes left, passkeys",
        responses=problems(*BEARER),
    )
    async def overview(
        self, caller: Caller, second_factors: Inject[ShowSecondFactors]
    ) -> Response[SecondFactorsBody]:
        shown = await second_factors.execute(caller)
        body = SecondFactorsBody(
            totp=shown.totp,
            recovery_codes_left=shown.recovery_codes_left,
            passkeys=shown.passkeys,
            password=shown.password,
        )
        return Response(body, headers=NO_STORE)

    @post(
        "/totp/setup",
        status_code=200,
        summary="A new authenticator-app secret (not active until confirmed)",
        description="Show `otpauth_uri` as a QR code (or `secret` to type in). A pending "
        "secret is replaced by a new setup; an active one must be removed first.",
        responses=problems(
            e.InsufficientUserAuthentication, *BEARER, e.TotpAlreadyEnabled, e.EmailNotVerified
        ),
    )
    async def setup(self, caller: Caller, setup_totp: Inject[SetupTotp]) -> Response[TotpSetupBody]:
        setup = await setup_totp.execute(caller)
        body = TotpSetupBody(secret=setup.secret, otpauth_uri=setup.otpauth_uri)
        return Response(body, headers=NO_STORE)

    @post(
        "/totp/confirm",
        status_code=200,
        summary="Activate the app with its first code; the recovery codes, shown once",
        responses=problems(
            e.InsufficientUserAuthentication,
            *BODY,
            *BEARER,
            e.EmailNotVerified,
            e.InvalidMfaCode,
            e.TotpSetupRequired,
            e.TotpAlreadyEnabled,
        ),
    )
    async def confirm(
        self,
        data: JSONBody[TotpCodeRequest],
        caller: Caller,
        confirm_totp: Inject[ConfirmTotp],
        client: Client,
    ) -> Response[AppConfirmedBody]:
        confirmed = await confirm_totp.execute(
            TotpCodeCommand(caller=caller, code=data.code, client=client)
        )
        body = AppConfirmedBody(
            recovery_codes=confirmed.recovery_codes,
            access_token=confirmed.access_token,
            expires_in=confirmed.expires_in,
        )
        return Response(body, headers=NO_STORE)

    @post(
        "/recovery-codes",
        status_code=200,
        summary="Ten new recovery codes for a current code of the app; the old ones die",
        responses=problems(
            e.InsufficientUserAuthentication,
            *BODY,
            *BEARER,
            e.InvalidMfaCode,
            e.TotpNotEnabled,
            e.TooManyRequests,
        ),
    )
    async def recovery_codes(
        self,
        data: JSONBody[TotpCodeRequest],
        caller: Caller,
        regenerate_recovery_codes: Inject[RegenerateRecoveryCodes],
        client: Client,
    ) -> Response[RecoveryCodesBody]:
        shown = await regenerate_recovery_codes.execute(
            TotpCodeCommand(caller=caller, code=data.code, client=client)
        )
        return Response(RecoveryCodesBody(recovery_codes=shown), headers=NO_STORE)

    @delete(
        "/totp",
        status_code=HTTP_204_NO_CONTENT,
        summary="Remove the app and its recovery codes (current password or code)",
        operation_class=NoContent,
        responses=problems(
            e.InsufficientUserAuthentication,
            *BODY,
            *BEARER,
            e.InvalidCredentials,
            e.InvalidMfaCode,
            e.TotpNotEnabled,
            e.TooManyRequests,
        ),
    )
    async def disable(
        self,
        data: JSONBody[DisableTotpRequest],
        caller: Caller,
        disable_totp: Inject[DisableTotp],
        client: Client,
    ) -> None:
        await disable_totp.execute(
            DisableTotpCommand(caller=caller, password=data.password, code=data.code, client=client)
        )


class SecondStepController(Controller):
    path = "/auth/login/mfa"
    tags = ("auth",)

    @post(
        "/",
        status_code=200,
        guards=[same_origin],
        summary="Complete a password sign-in with a code of the app or a recovery code",
        description="Takes the `mfa_token` of the 401 `mfa_required` login answer, or, with "
        "none in the body, the `mfa_pending` cookie an identity provider's sign-in left. Five "
        "wrong codes end the attempt (401 `invalid_mfa_token`): sign in again.",
        responses=problems(
            *BODY,
            *COOKIE,
            e.InvalidMfaToken,
            e.InvalidMfaCode,
            e.AccountDisabled,
            e.TooManyRequests,
        ),
    )
    async def complete(
        self,
        data: JSONBody[MfaLoginRequest],
        complete_mfa_sign_in: Inject[CompleteMfaSignIn],
        settings: Inject[Settings],
        client: Client,
        body_transport: BodyTransport,
        pending: PendingToken = None,
    ) -> Response[TokenBody]:
        signed_in = await complete_mfa_sign_in.execute(
            MfaSignInCommand(
                mfa_token=data.mfa_token or pending or "",
                code=data.code,
                recovery_code=data.recovery_code,
                client=client,
            )
        )
        response = token_response(
            settings,
            signed_in.tokens,
            in_body=body_transport,
            user=signed_in.user,
            password_breached=signed_in.password_breached,
        )
        if pending is not None:
            response.cookies.append(mfa_pending_cookie(settings, None))
        return response
