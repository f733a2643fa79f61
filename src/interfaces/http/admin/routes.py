"""``/admin/users…``: the admin API, for callers whose role is ``admin`` right now."""

from __future__ import annotations

from typing import Annotated

from litestar import Controller, Response, delete, get, post
from litestar.di import NamedDependency, Provide
from litestar.params import FromPath, FromQuery, QueryParameter, SkipValidation
from litestar.status_codes import HTTP_204_NO_CONTENT

from application.admin import Actor, AdminCommand, UsersQuery
from application.admin.directory import MAX_PAGE, ListUsers, ShowUser
from application.admin.guard import RequireAdmin
from application.admin.second_factor import ResetSecondFactor
from application.admin.standing import DeleteUser, DisableUser, EnableUser, UnlockUser
from domain import errors as e
from domain.entities import User
from domain.values import MAX_ID
from interfaces.http.admin.responses import AdminUserBody, AdminUserDetailsBody, UsersPageBody
from interfaces.http.documentation import SIGNED_IN, problems
from interfaces.http.providers import NO_STORE, Caller, Client, Inject

Admin = NamedDependency[SkipValidation[User]]
Limit = Annotated[int, QueryParameter(ge=1, le=MAX_PAGE)]
GUARDED = (e.InvalidAccessToken, e.Forbidden, e.StorageUnavailable)
ONE_USER = (*GUARDED, e.UserNotFound)


async def admin(caller: Caller, require_admin: Inject[RequireAdmin]) -> User:
    return await require_admin.execute(caller)


def _command(user_id: int, admin: User, client: Client) -> AdminCommand:
    if not 1 <= user_id <= MAX_ID:
        raise e.UserNotFound()
    return AdminCommand(user_id=user_id, actor=Actor(admin_id=admin.id, client=client))


class AdminController(Controller):
    path = "/admin/users"
    tags = ("admin",)
    dependencies = {"admin": Provide(admin)}  # noqa: RUF012 - Litestar reads it once, at start
    security = SIGNED_IN

    @get("/", summary="Users, a page at a time", responses=problems(*GUARDED, e.ValidationFailed))
    async def list_users(
        self,
        admin: Admin,
        list_users: Inject[ListUsers],
        limit: Limit = 50,
        cursor: FromQuery[str | None] = None,
        email: FromQuery[str | None] = None,
    ) -> Response[UsersPageBody]:
        page = await list_users.execute(UsersQuery(limit=limit, cursor=cursor, email=email))
        body = UsersPageBody(
            users=[AdminUserBody.of(u) for u in page.users], next_cursor=page.next_cursor
        )
        return Response(body, headers=NO_STORE)

    @get("/{user_id:int}", summary="One user in detail", responses=problems(*ONE_USER))
    async def show_user(
        self, user_id: FromPath[int], admin: Admin, show_user: Inject[ShowUser], client: Client
    ) -> Response[AdminUserDetailsBody]:
        command = _command(user_id, admin, client)
        details = await show_user.execute(command.user_id)
        return Response(AdminUserDetailsBody.of_details(details), headers=NO_STORE)

    @post(
        "/{user_id:int}/disable",
        status_code=HTTP_204_NO_CONTENT,
        summary="Refuse the user's sign-ins and end all its sessions at once",
        responses=problems(*ONE_USER, e.OwnAccount, e.LastAdmin),
    )
    async def disable(
        self,
        user_id: FromPath[int],
        admin: Admin,
        disable_user: Inject[DisableUser],
        client: Client,
    ) -> None:
        await disable_user.execute(_command(user_id, admin, client))

    @post(
        "/{user_id:int}/enable",
        status_code=HTTP_204_NO_CONTENT,
        summary="Let a disabled user sign in again",
        responses=problems(*ONE_USER),
    )
    async def enable(
        self, user_id: FromPath[int], admin: Admin, enable_user: Inject[EnableUser], client: Client
    ) -> None:
        await enable_user.execute(_command(user_id, admin, client))

    @post(
        "/{user_id:int}/unlock",
        status_code=HTTP_204_NO_CONTENT,
        summary="Clear the user's failed-login limits",
        responses=problems(*ONE_USER),
    )
    async def unlock(
        self, user_id: FromPath[int], admin: Admin, unlock_user: Inject[UnlockUser], client: Client
    ) -> None:
        await unlock_user.execute(_command(user_id, admin, client))

    @post(
        "/{user_id:int}/mfa-reset",
        status_code=HTTP_204_NO_CONTENT,
        summary="Remove the user's authenticator app, recovery codes and passkeys",
        responses=problems(*ONE_USER, e.OwnAccount),
    )
    async def mfa_reset(
        self,
        user_id: FromPath[int],
        admin: Admin,
        reset_second_factor: Inject[ResetSecondFactor],
        client: Client,
    ) -> None:
        await reset_second_factor.execute(_command(user_id, admin, client))

    @delete(
        "/{user_id:int}",
        status_code=HTTP_204_NO_CONTENT,
        summary="Erase the user, its identities, sessions and grants",
        responses=problems(*ONE_USER, e.OwnAccount, e.LastAdmin),
    )
    async def delete_user(
        self, user_id: FromPath[int], admin: Admin, delete_user: Inject[DeleteUser], client: Client
    ) -> None:
        await delete_user.execute(_command(user_id, admin, client))
