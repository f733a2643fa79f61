"""``authgate``: operator commands."""

from __future__ import annotations

import argparse
import sys

from infrastructure.config import Settings, SettingsError, default_variable, load_settings
from interfaces.bootstrap import open_service
from interfaces.bootstrap.backends import migrate, migration_status
from interfaces.cli import errors as cli_errors
from interfaces.cli import import_users as cli_import
from interfaces.cli import keys as cli_keys
from interfaces.cli import users as cli_users
from interfaces.cli import webhooks as cli_webhooks
from interfaces.cli.audit_lines import audit_lines
from interfaces.serve import serve


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="authgate", description="authgate operator commands")
    parser.add_argument(
        "--traceback", action="store_true", help="show the full error of an unexpected failure"
    )
    commands = parser.add_subparsers(dest="command", required=True)
    migrator = commands.add_parser("migrate", help="apply pending database migrations")
    migrator.add_argument(
        "--status", action="store_true", help="list each migration: applied, pending or changed"
    )
    server = commands.add_parser(
        "serve", help="apply pending migrations, then serve the API (AUTH_HOST/PORT/WORKERS)"
    )
    server.add_argument(
        "--demo",
        action="store_true",
        help="serve the demo app at /demo too, unless AUTH_DEMO says otherwise",
    )
    commands.add_parser(
        "purge",
        help="delete the sessions, token families, mail tokens and sent mails no one needs"
        " any more, once (the server does it every 10 minutes)",
    )
    cli_import.register(commands)
    cli_users.register(commands)
    cli_keys.register(commands)
    cli_webhooks.register(commands)
    args = parser.parse_args(cli_keys.key_ids_as_given(sys.argv[1:] if argv is None else argv))
    if args.command == "serve" and args.demo:
        default_variable("AUTH_DEMO", "true")
    try:
        settings = load_settings()
    except SettingsError as e:
        print(e, file=sys.stderr)
        return 2
    if args.command == "serve":
        return serve(settings)
    command: cli_errors.Command
    if args.command == "migrate":
        command = _status if args.status else _migrate
    elif args.command == "purge":
        command = _purge
    elif args.command == "import-users":
        command = cli_import.command(args)
    elif args.command == "users":
        command = cli_users.command(args)
    elif args.command == "webhooks":
        command = cli_webhooks.command(args)
    else:
        command = cli_keys.command(args)
    with audit_lines(settings):
        return cli_errors.run(args.command, command, settings, show_traceback=args.traceback)


async def _migrate(settings: Settings) -> int:
    applied = await migrate(settings)
    print(f"applied {', '.join(applied)}" if applied else "database is up to date")
    return 0


async def _purge(settings: Settings) -> int:
    await cli_errors.require_migrated(settings)
    async with open_service(settings) as service:
        purged = await service.cases.purge_expired.execute()
    print(
        f"deleted {purged.sessions} sessions, {purged.grants} token families,"
        f" {purged.mail_tokens} mail tokens, {purged.mails} mails"
    )
    return 0


async def _status(settings: Settings) -> int:
    states = await migration_status(settings)
    width = max((len(state.version) for state in states), default=0)
    for state in states:
        if state.applied_at is None:
            print(f"{state.version:{width}}  pending")
        elif state.changed:
            print(f"{state.version:{width}}  changed  (applied {state.applied_at}, file differs)")
        else:
            print(f"{state.version:{width}}  applied  {state.applied_at}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
