"""``authgate``: operator commands."""

from __future__ import annotations

import argparse
import asyncio
import sys
from pathlib import Path

from domain.errors import StorageUnavailable
from infrastructure.config import Settings, SettingsError, load_settings
from infrastructure.persistence import migrations
from interfaces.http.backends import migrate, open_database
from interfaces.http.container import open_container
from interfaces.serve import serve


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="authgate", description="authgate operator commands")
    commands = parser.add_subparsers(dest="command", required=True)
    migrator = commands.add_parser("migrate", help="apply pending database migrations")
    migrator.add_argument(
        "--status", action="store_true", help="list each migration: applied, pending or changed"
    )
    commands.add_parser(
        "serve", help="apply pending migrations, then serve the API (AUTH_HOST/PORT/WORKERS)"
    )
    importer = commands.add_parser(
        "import-users",
        help="import users with existing bcrypt or argon2 hashes from a JSON Lines file",
    )
    importer.add_argument(
        "file", type=Path, help='one {"email", "password_hash", "name"?, "role"?} a line'
    )
    args = parser.parse_args(argv)
    try:
        settings = load_settings()
    except SettingsError as e:
        print(e, file=sys.stderr)
        return 2
    if args.command == "serve":
        return serve(settings)
    if args.command == "migrate":
        try:
            return asyncio.run(_status(settings) if args.status else _migrate(settings))
        except migrations.MigrationError as e:
            print(f"authgate migrate: {e}", file=sys.stderr)
            return 1
        except StorageUnavailable as e:
            print(f"authgate migrate: database unavailable: {e.__cause__ or e}", file=sys.stderr)
            return 1
    if not args.file.is_file():
        print(f"no such file: {args.file}", file=sys.stderr)
        return 2
    return asyncio.run(_import_users(settings, args.file.read_text("utf-8").splitlines()))


async def _migrate(settings: Settings) -> int:
    applied = await migrate(settings)
    print(f"applied {', '.join(applied)}" if applied else "database is up to date")
    return 0


async def _status(settings: Settings) -> int:
    database = open_database(settings)
    try:
        states = await migrations.status(database)
    finally:
        await database.close()
    width = max((len(state.version) for state in states), default=0)
    for state in states:
        if state.applied_at is None:
            print(f"{state.version:{width}}  pending")
        elif state.changed:
            print(f"{state.version:{width}}  changed  (applied {state.applied_at}, file differs)")
        else:
            print(f"{state.version:{width}}  applied  {state.applied_at}")
    return 0


async def _import_users(settings: Settings, lines: list[str]) -> int:
    async with open_container(settings) as container:
        report = await container.cases.import_users.execute(lines)
    for problem in report.problems:
        print(problem, file=sys.stderr)
    print(f"imported {report.imported} users, {len(report.problems)} lines skipped")
    return 0 if not report.problems else 1


if __name__ == "__main__":
    raise SystemExit(main())
