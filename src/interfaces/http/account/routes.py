"""The signed-in user's own account: who am I, sign out everywhere."""

from __future__ import annotations

from litestar import Controller, Response, get, post
from litestar.params import JSONBody
from litestar.status_codes import HTTP_204_NO_CONTENT

from application.authenticate import GetCurrentUser
from application.sessions import RevokeCommand, RevokeSessions
from domain import errors as e
from interfaces.http.account.requests import RevokeRequest
from interfaces.http.documentation import BODY, SIGNED_IN, OptionalBody, problems
from interfaces.http.providers import NO_STORE, Caller, Client, Inject
from interfaces.http.responses import MeBody, UserBody

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
    async def me(self, caller: Caller, current_user: Inject[GetCurrentUser]) -> Response[MeBody]:
        user = await current_user.execute(caller)
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
