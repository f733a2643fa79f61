"""The signed-in user's own account: who am I, sign out everywhere, prove it's you again."""

from __future__ import annotations

from typing import Any

from litestar import Controller, Request, Response, get, post
from litestar.params import JSONBody
from litestar.status_codes import HTTP_204_NO_CONTENT

from application.authenticate import GetCurrentUser
from application.reauthenticate import Reauthenticate, ReauthenticateCommand
from application.sessions import RevokeCommand, RevokeSessions
from domain import errors as e
from interfaces.http.account.requests import ReauthenticateRequest, RevokeRequest
from interfaces.http.documentation import BODY, SIGNED_IN, OptionalBody, problems
from interfaces.http.providers import NO_STORE, Caller, Client, Inject, bearer_of
from interfaces.http.responses import MeBody, ReauthenticatedBody, UserBody

# An empty body keeps no session (JSON null is still refused).
KEEP_NONE = RevokeRequest()


class AccountController(Controller):
    path = "/auth"
    tags = ("auth",)

    @get(
        "/me",
        summary="The signed-in user",
        security=SIGNED_IN,
        responses=problems(e.InvalidAccessToken, e.StorageUnavailable),
    )
    async def me(
        self, request: Request[Any, Any, Any], current_user: Inject[GetCurrentUser]
    ) -> Response[MeBody]:
        user = await current_user.execute(bearer_of(request))
        return Response(MeBody(user=UserBody.of(user)), headers=NO_STORE)

    @post(
        "/revoke",
        status_code=HTTP_204_NO_CONTENT,
        operation_class=OptionalBody,
        summary="Sign out everywhere",
        security=SIGNED_IN,
        responses=problems(*BODY, e.InvalidAccessToken, e.StorageUnavailable),
    )
    async def revoke(
        self,
        caller: Caller,
        revoke_sessions: Inject[RevokeSessions],
        client: Client,
        data: JSONBody[RevokeRequest] = KEEP_NONE,
    ) -> None:
        await revoke_sessions.execute(
            RevokeCommand(caller=caller, keep_current=data.keep_current, client=client)
        )

    @post(
        "/reauthenticate",
        status_code=200,
        summary="Prove it's you again, for a sensitive action (step-up, RFC 9470)",
        description="Answers a 401 `insufficient_user_authentication`: the password (with "
        "`code` or `recovery_code` when the account has an authenticator app), or a passkey's "
        "`credential` for `POST /auth/passkeys/reauthenticate/options`. The session stays; "
        "the new access token states the fresh `auth_time`, `amr` and `acr`, and so does "
        "every refresh of this session from now on. Wrong proofs count as failed logins.",
        security=SIGNED_IN,
        responses=problems(
            *BODY,
            e.InvalidAccessToken,
            e.InvalidCredentials,
            e.InvalidMfaCode,
            e.InvalidPasskey,
            e.TooManyRequests,
            e.StorageUnavailable,
        ),
    )
    async def reauthenticate(
        self,
        data: JSONBody[ReauthenticateRequest],
        caller: Caller,
        reauthenticate: Inject[Reauthenticate],
        client: Client,
    ) -> Response[ReauthenticatedBody]:
        proven = await reauthenticate.execute(
            ReauthenticateCommand(
                caller=caller,
                client=client,
                password=data.password,
                code=data.code,
                recovery_code=data.recovery_code,
                credential=None if data.credential is None else data.credential.as_json(),
            )
        )
        body = ReauthenticatedBody(
            access_token=proven.access_token,
            expires_in=proven.expires_in,
            auth_time=int(proven.assurance.auth_time.timestamp()),
            amr=list(proven.assurance.amr),
            acr=proven.assurance.acr,
        )
        return Response(body, headers=NO_STORE)
