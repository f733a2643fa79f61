"""``authgate users …``: the admin API's operations for the operator, by id or email."""

from __future__ import annotations

import argparse
from collections.abc import Awaitable, Callable

from application.admin import CLI, AdminCommand, SetRoleCommand, UsersQuery
from application.admin.directory import MAX_PAGE
from domain.entities import ROLES, User
from domain.values import MAX_ID
from infrastructure.config import Settings
from interfaces.bootstrap import UseCases, open_service
from interfaces.cli.errors import CliError, require_migrated
from interfaces.timestamps import iso

Action = Callable[[UseCases, argparse.Namespace], Awaitable[int]]


def register(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    users = commands.add_parser("users", help="list, inspect and administer user accounts")
    verbs = users.add_subparsers(dest="verb", required=True)
    listing = verbs.add_parser("list", help="every user, by id")
    listing.add_argument("--email", help="only the user with this email")
    listing.set_defaults(action=_list)
    for verb, action, text in [
        ("show", _show, "one user with its identities and live sessions"),
        (
            "disable",
            _standing("disable_user", "disabled; its sessions are revoked"),
            "refuse its sign-ins, end its sessions",
        ),
        ("enable", _standing("enable_user", "enabled"), "let a disabled user sign in again"),
        ("unlock", _standing("unlock_user", "unlocked"), "clear its failed-login limits"),
        (
            "mfa-reset",
            _standing("reset_second_factor", "has no second factor now"),
            "remove its authenticator app, recovery codes and passkeys",
        ),
        ("delete", _delete, "erase the user, its identities, sessions and grants"),
        ("set-role", _set_role, "make the user an admin, or a user again"),
    ]:
        parser = verbs.add_parser(verb, help=text)
        parser.add_argument("user", help="user id or email")
        parser.set_defaults(action=action)
    verbs.choices["delete"].add_argument("--yes", action="store_true", help="confirm erasing")
    verbs.choices["set-role"].add_argument("role", choices=sorted(ROLES))


def command(args: argparse.Namespace) -> Callable[[Settings], Awaitable[int]]:
    async def run(settings: Settings) -> int:
        await require_migrated(settings)
        async with open_service(settings) as service:
            action: Action = args.action
            return await action(service.cases, args)

    return run


async def _list(cases: UseCases, args: argparse.Namespace) -> int:
    cursor: str | None = None
    while True:
        page = await cases.list_users.execute(
            UsersQuery(limit=MAX_PAGE, cursor=cursor, email=args.email)
        )
        for user in page.users:
            status = "disabled" if user.disabled else "active"
            print(
                f"{user.id:>8}  {user.role:<5}  {status:<8}  {iso(user.created_at)}  {user.email}"
            )
        if page.next_cursor is None:
            return 0
        cursor = page.next_cursor


async def _show(cases: UseCases, args: argparse.Namespace) -> int:
    details = await cases.show_user.execute(await _user_id(cases, args.user))
    user = details.user
    print(f"id:            {user.id}")
    print(f"email:         {user.email}")
    print(f"name:          {user.name or '-'}")
    print(f"role:          {user.role}")
    print(f"disabled:      {iso(user.disabled_at) if user.disabled_at else 'no'}")
    print(f"created_at:    {iso(user.created_at)}")
    print(f"live_sessions: {details.live_sessions}")
    for identity in details.identities:
        print(
            f"identity:      {identity.provider} {identity.email or '-'} {iso(identity.created_at)}"
        )
    return 0


def _standing(verb: str, done: str) -> Action:
    async def act(cases: UseCases, args: argparse.Namespace) -> int:
        user_id = await _user_id(cases, args.user)
        await getattr(cases, verb).execute(AdminCommand(user_id=user_id, actor=CLI))
        print(f"user {user_id} {done}")
        return 0

    return act


async def _delete(cases: UseCases, args: argparse.Namespace) -> int:
    if not args.yes:
        raise CliError(f"this erases user {args.user} for good: add --yes to confirm")
    user_id = await _user_id(cases, args.user)
    await cases.delete_user.execute(AdminCommand(user_id=user_id, actor=CLI))
    print(f"user {user_id} deleted")
    return 0


async def _set_role(cases: UseCases, args: argparse.Namespace) -> int:
    user_id = await _user_id(cases, args.user)
    await cases.set_role.execute(SetRoleCommand(user_id=user_id, actor=CLI, role=args.role))
    print(f"user {user_id} is now {args.role} (live sessions get the role at their next refresh)")
    return 0


async def _user_id(cases: UseCases, user: str) -> int:
    if user.isdigit():
        if int(user) > MAX_ID:
            raise CliError(f"no user with id {user}: see `authgate users list`")
        return int(user)
    page = await cases.list_users.execute(UsersQuery(limit=1, email=user))
    found: list[User] = page.users
    if not found:
        raise CliError(f"no user with email {user}: see `authgate users list`")
    return found[0].id
