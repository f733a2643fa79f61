"""The signed-in user's own account: who am I, sign out everywhere."""

from __future__ import annotations

from litestar import Controller, Response, get, post
from litestar.params import JSONBody
from litestar.status_codes import HTTP_204_NO_CONTENT

from application.sessions import RevokeCommand
from domain import errors as e
from interfaces.http.bodies import MeBody, UserBody
from interfaces.http.dependencies import NO_STORE, Caller, Client, Services
from interfaces.http.documentation import BODY, SIGNED_IN, OptionalBody, problems
from interfaces.http.payloads import RevokeRequest

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
    async def me(self, caller: Caller, services: Services) -> Response[MeBody]:
        user = await services.cases.current_user.execute(caller)
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
        services: Services,
        client: Client,
        data: JSONBody[RevokeRequest] = KEEP_NONE,
    ) -> None:
        await services.cases.revoke_sessions.execute(
            RevokeCommand(caller=caller, keep_current=data.keep_current, client=client)
        )
