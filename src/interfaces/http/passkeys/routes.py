"""Passkeys (WebAuthn): register one while signed in, list and remove them, and sign in with
one without typing an email."""

from __future__ import annotations

from typing import Any

from litestar import Controller, Response, delete, get, post
from litestar.params import FromPath, JSONBody
from litestar.status_codes import HTTP_204_NO_CONTENT

from application.mfa.passkey_sign_in import (
    FinishPasskeySignIn,
    PasskeySignInCommand,
    StartPasskeySignIn,
)
from application.mfa.passkeys import (
    FinishPasskeyRegistration,
    FinishRegistrationCommand,
    ListPasskeys,
    RemovePasskey,
    RemovePasskeyCommand,
    StartPasskeyRegistration,
)
from application.passkey_sign_up import (
    FinishPasskeySignUp,
    FinishPasskeySignUpCommand,
    PasskeySignUpCommand,
    StartPasskeySignUp,
)
from application.reauthenticate import StartPasskeyReauthentication
from domain import errors as e
from domain.values import MAX_ID
from infrastructure.config import Settings
from interfaces.http.auth.responses import AwaitingVerificationBody
from interfaces.http.cookies import signed_up_response, token_response
from interfaces.http.documentation import BODY, COOKIE, SIGNED_IN, NoContent, problems
from interfaces.http.origin import same_origin
from interfaces.http.passkeys.requests import (
    PasskeyRegistrationRequest,
    PasskeySignInRequest,
    PasskeySignUpRequest,
    PasskeySignUpVerifyRequest,
)
from interfaces.http.passkeys.responses import AddedPasskeyBody, PasskeyBody, PasskeysBody
from interfaces.http.providers import NO_STORE, BodyTransport, Caller, Client, Inject
from interfaces.http.responses import TokenBody

BEARER = (e.InvalidAccessToken, e.StorageUnavailable)
CREATION_OPTIONS = (
    "`PublicKeyCredentialCreationOptionsJSON` (WebAuthn Level 3): give it to "
    "`PublicKeyCredential.parseCreationOptionsFromJSON` and `navigator.credentials.create`. "
    "The challenge is single use and lives five minutes."
)
REQUEST_OPTIONS = (
    "`PublicKeyCredentialRequestOptionsJSON` (WebAuthn Level 3): give it to "
    "`PublicKeyCredential.parseRequestOptionsFromJSON` and `navigator.credentials.get`. No "
    "credential is listed: the browser offers the passkeys it holds for this site. The "
    "challenge is single use and lives five minutes."
)


class PasskeysController(Controller):
    path = "/auth/passkeys"
    tags = ("passkeys",)

    @post(
        "/register/options",
        status_code=200,
        security=SIGNED_IN,
        summary="Start registering a passkey",
        description=CREATION_OPTIONS,
        responses=problems(e.InsufficientUserAuthentication, *BEARER, e.EmailNotVerified),
    )
    async def register_options(
        self, caller: Caller, start_passkey_registration: Inject[StartPasskeyRegistration]
    ) -> Response[dict[str, Any]]:
        options = await start_passkey_registration.execute(caller)
        return Response(dict(options), headers=NO_STORE)

    @post(
        "/register/verify",
        status_code=201,
        security=SIGNED_IN,
        summary="Register the passkey the browser created",
        description="`credential` is the browser's `PublicKeyCredential.toJSON()`; `name` an "
        "optional label.",
        responses=problems(
            e.InsufficientUserAuthentication,
            *BODY,
            *BEARER,
            e.InvalidPasskeyRegistration,
            e.PasskeyExists,
            e.EmailNotVerified,
        ),
    )
    async def register_verify(
        self,
        data: JSONBody[PasskeyRegistrationRequest],
        caller: Caller,
        finish_passkey_registration: Inject[FinishPasskeyRegistration],
        client: Client,
    ) -> Response[AddedPasskeyBody]:
        passkey = await finish_passkey_registration.execute(
            FinishRegistrationCommand(
                caller=caller,
                credential=data.credential.as_json(),
                name=data.name,
                client=client,
            )
        )
        body = AddedPasskeyBody(passkey=PasskeyBody.of(passkey))
        return Response(body, status_code=201, headers=NO_STORE)

    @post(
        "/login/options",
        status_code=200,
        summary="Start a passkey sign-in (no email needed)",
        description=REQUEST_OPTIONS,
        responses=problems(e.TooManyRequests, e.StorageUnavailable),
    )
    async def login_options(
        self, start_passkey_sign_in: Inject[StartPasskeySignIn], client: Client
    ) -> Response[dict[str, Any]]:
        options = await start_passkey_sign_in.execute(client)
        return Response(dict(options), headers=NO_STORE)

    @post(
        "/reauthenticate/options",
        status_code=200,
        security=SIGNED_IN,
        summary="Start proving it's you again with a passkey (step-up)",
        description=REQUEST_OPTIONS + " Only a passkey of the caller's account is accepted; "
        "send its answer as `credential` to `POST /auth/reauthenticate`.",
        responses=problems(*BEARER, e.TooManyRequests),
    )
    async def reauthenticate_options(
        self,
        caller: Caller,
        start_passkey_reauthentication: Inject[StartPasskeyReauthentication],
        client: Client,
    ) -> Response[dict[str, Any]]:
        options = await start_passkey_reauthentication.execute(caller, client)
        return Response(dict(options), headers=NO_STORE)

    @post(
        "/login/verify",
        status_code=200,
        guards=[same_origin],
        summary="Sign in with the passkey the browser chose",
        description="`credential` is the browser's `PublicKeyCredential.toJSON()`. A full "
        "sign-in: the login body and the refresh cookie, no second step.",
        responses=problems(*BODY, *COOKIE, e.InvalidPasskey, e.AccountDisabled, e.EmailNotVerified),
    )
    async def login_verify(
        self,
        data: JSONBody[PasskeySignInRequest],
        finish_passkey_sign_in: Inject[FinishPasskeySignIn],
        settings: Inject[Settings],
        client: Client,
        body_transport: BodyTransport,
    ) -> Response[TokenBody]:
        signed_in = await finish_passkey_sign_in.execute(
            PasskeySignInCommand(credential=data.credential.as_json(), client=client)
        )
        return token_response(
            settings, signed_in.tokens, in_body=body_transport, user=signed_in.user
        )

    @post(
        "/signup/options",
        status_code=200,
        summary="Start signing up with a passkey (no password)",
        description=CREATION_OPTIONS + " The address (and name) wait with the challenge; an "
        "address already taken is refused here, 409 `email_taken`.",
        responses=problems(
            *BODY,
            e.EmailTaken,
            e.CaptchaFailed,
            e.CaptchaUnavailable,
            e.TooManyRequests,
            e.StorageUnavailable,
        ),
    )
    async def signup_options(
        self,
        data: JSONBody[PasskeySignUpRequest],
        start_passkey_sign_up: Inject[StartPasskeySignUp],
        client: Client,
    ) -> Response[dict[str, Any]]:
        options = await start_passkey_sign_up.execute(
            PasskeySignUpCommand(
                email=data.email,
                name=data.name,
                captcha_token=data.turnstile_token,
                client=client,
            )
        )
        return Response(dict(options), headers=NO_STORE)

    @post(
        "/signup/verify",
        status_code=201,
        guards=[same_origin],
        summary="Create the account with the passkey the browser made, and sign in",
        description="`credential` is the browser's `PublicKeyCredential.toJSON()`. The "
        "register body and the refresh cookie: an account with this passkey and no password, "
        "its address unverified (the verification mail is sent). With "
        "AUTH_REQUIRE_VERIFIED_EMAIL=true, as at register: the user only, no tokens.",
        responses=problems(
            *BODY,
            *COOKIE,
            e.InvalidPasskeyRegistration,
            e.EmailTaken,
            e.PasskeyExists,
        ),
    )
    async def signup_verify(
        self,
        data: JSONBody[PasskeySignUpVerifyRequest],
        finish_passkey_sign_up: Inject[FinishPasskeySignUp],
        settings: Inject[Settings],
        client: Client,
        body_transport: BodyTransport,
    ) -> Response[TokenBody | AwaitingVerificationBody]:
        signed_up = await finish_passkey_sign_up.execute(
            FinishPasskeySignUpCommand(credential=data.credential.as_json(), client=client)
        )
        return signed_up_response(settings, signed_up, in_body=body_transport)

    @get(
        "/",
        security=SIGNED_IN,
        summary="The caller's passkeys",
        responses=problems(*BEARER),
    )
    async def list_passkeys(
        self, caller: Caller, list_passkeys: Inject[ListPasskeys]
    ) -> Response[PasskeysBody]:
        passkeys = await list_passkeys.execute(caller)
        body = PasskeysBody(passkeys=[PasskeyBody.of(p) for p in passkeys])
        return Response(body, headers=NO_STORE)

    @delete(
        "/{passkey_id:int}",
        status_code=HTTP_204_NO_CONTENT,
        security=SIGNED_IN,
        operation_class=NoContent,
        summary="Remove one of the caller's passkeys",
        responses=problems(e.InsufficientUserAuthentication, *BEARER, e.PasskeyNotFound),
    )
    async def remove(
        self,
        passkey_id: FromPath[int],
        caller: Caller,
        remove_passkey: Inject[RemovePasskey],
        client: Client,
    ) -> None:
        if not 1 <= passkey_id <= MAX_ID:
            raise e.PasskeyNotFound()
        await remove_passkey.execute(
            RemovePasskeyCommand(caller=caller, passkey_id=passkey_id, client=client)
        )
