"""What the account keeps, for its user: the security activity, the export, the erasure."""

from __future__ import annotations

from litestar import Controller, Response, delete, get
from litestar.params import FromQuery
from litestar.status_codes import HTTP_204_NO_CONTENT

from application.account import AccountCommand, DeleteAccount, ExportAccount
from application.activity import ListActivity
from domain import errors as e
from interfaces.http.account.responses import ActivityBody, ActivityPageBody, ExportBody
from interfaces.http.documentation import SIGNED_IN, NoContent, problems
from interfaces.http.providers import NO_STORE, Caller, Client, Inject

STEP_UP = (e.InsufficientUserAuthentication, e.InvalidAccessToken, e.StorageUnavailable)


class AccountDataController(Controller):
    path = "/auth"
    tags = ("account",)

    @get(
        "/activity",
        summary="The caller's security activity, newest first",
        description="Sign-ins (with their method, address and device), failed sign-ins, "
        "refresh-token reuse, factor and password changes, sessions ended, an "
        "administrator's actions: kept `AUTH_ACTIVITY_RETENTION_DAYS`. `limit` 1 to 100 "
        "(default 20); `next_cursor` is the `cursor` of the next, older page, `null` on "
        "the last one.",
        security=SIGNED_IN,
        responses=problems(e.InvalidAccessToken, e.ValidationFailed, e.StorageUnavailable),
    )
    async def activity(
        self,
        caller: Caller,
        list_activity: Inject[ListActivity],
        limit: FromQuery[int | None] = None,
        cursor: FromQuery[str | None] = None,
    ) -> Response[ActivityPageBody]:
        entries, next_cursor = await list_activity.execute(caller, limit, cursor)
        body = ActivityPageBody(
            activity=[ActivityBody.of(a) for a in entries], next_cursor=next_cursor
        )
        return Response(body, headers=NO_STORE)

    @get(
        "/account/export",
        summary="Everything kept about the account, as a JSON download (step-up)",
        description="Profile, provider identities, live sessions, passkeys (names and "
        "dates), the activity and the mails sent (subjects and dates): no hash, secret, "
        "token, key or mail body. Needs a recent sign-in or `POST /auth/reauthenticate`.",
        security=SIGNED_IN,
        responses=problems(*STEP_UP),
    )
    async def export(
        self, caller: Caller, export_account: Inject[ExportAccount], client: Client
    ) -> Response[ExportBody]:
        exported = await export_account.execute(AccountCommand(caller=caller, client=client))
        filename = f"account-{exported.user.id}-{exported.at:%Y%m%d}.json"
        return Response(
            ExportBody.of(exported),
            media_type="application/json",
            headers={**NO_STORE, "Content-Disposition": f'attachment; filename="{filename}"'},
        )

    @delete(
        "/account",
        status_code=HTTP_204_NO_CONTENT,
        summary="Delete the account and everything kept about it (step-up)",
        description="Every session ends at once (its access tokens too); the user, its "
        "identities, factors, pending mails and activity are erased; a last mail confirms "
        "it and `user.deleted` goes to the webhooks. The address can sign up again. Needs a "
        "recent sign-in or `POST /auth/reauthenticate`; the last active admin cannot.",
        security=SIGNED_IN,
        operation_class=NoContent,
        responses=problems(*STEP_UP, e.LastAdmin),
    )
    async def delete_account(
        self, caller: Caller, delete_account: Inject[DeleteAccount], client: Client
    ) -> None:
        await delete_account.execute(AccountCommand(caller=caller, client=client))
