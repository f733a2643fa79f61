"""``authgate``: operator commands (migrate; import-users)."""

from __future__ import annotations

import argparse
import asyncio
import sys

from infrastructure.config import SettingsError, load_settings
from interfaces.http.container import migrate


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="authgate", description="authgate operator commands")
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("migrate", help="apply pending database migrations")
    args = parser.parse_args(argv)
    try:
        settings = load_settings()
    except SettingsError as e:
        print(e, file=sys.stderr)
        return 2
    if args.command == "migrate":
        applied = asyncio.run(migrate(settings))
        print(f"applied {', '.join(applied)}" if applied else "database is up to date")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
