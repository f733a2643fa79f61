"""CLI failures as one line: what went wrong and what to do, exit code 1, no traceback."""

from __future__ import annotations

import asyncio
import inspect
import sys
import traceback
from collections.abc import Awaitable, Callable
from pathlib import Path
from urllib.parse import urlsplit

from domain.errors import DomainError, StorageUnavailable, ValidationFailed
from infrastructure.config import Settings
from infrastructure.persistence import migrations
from infrastructure.security.key_rotation import KeysFileError
from interfaces.bootstrap.backends import pending_migrations

Command = Callable[[Settings], Awaitable[int] | int]


class CliError(Exception):
    """A failure the operator can fix; the message names the cause and the fix."""


def run(name: str, command: Command, settings: Settings, *, show_traceback: bool) -> int:
    try:
        outcome = command(settings)
        return asyncio.run(_awaited(outcome)) if inspect.isawaitable(outcome) else outcome
    except (CliError, KeysFileError, migrations.MigrationError) as e:
        return _fail(name, str(e))
    except StorageUnavailable as e:
        return _fail(name, unavailable(settings, e))
    except ValidationFailed as e:
        return _fail(name, "; ".join(f"{f.field} {f.message}" for f in e.errors) or e.detail)
    except DomainError as e:
        return _fail(name, e.detail)
    except Exception as e:
        if show_traceback:
            traceback.print_exc()
        return _fail(
            name,
            f"unexpected error: {type(e).__name__}: {_first_line(e)}"
            " (run again with --traceback for the details)",
        )


async def _awaited(outcome: Awaitable[int]) -> int:
    return await outcome


def _fail(name: str, message: str) -> int:
    print(f"authgate {name}: {message}", file=sys.stderr)
    return 1


def unavailable(settings: Settings, error: StorageUnavailable) -> str:
    cause = error.__cause__ or error
    reason = f"{type(cause).__name__}: {_first_line(cause)}"
    if type(cause).__module__.startswith("valkey"):
        from infrastructure.grants.valkey.urls import valkey_where

        return (
            f"database unavailable: {valkey_where(settings.grants_url)} does not answer"
            f" ({reason}): start it, or fix AUTH_GRANTS_URL"
        )
    if settings.sqlite_path is not None:
        return (
            f"database unavailable: cannot open the SQLite file {settings.sqlite_path}"
            f" ({reason}): check AUTH_DATABASE_URL and that its directory exists and is writable"
        )
    where = urlsplit(settings.database_url)
    return (
        f"database unavailable: PostgreSQL at {where.hostname}:{where.port or 5432} does not"
        f" answer ({reason}): start it, or fix AUTH_DATABASE_URL"
    )


async def require_migrated(settings: Settings) -> None:
    pending = await pending_migrations(settings)
    if pending:
        raise CliError(
            f"database not migrated ({', '.join(pending)} pending): run `authgate migrate`"
        )


def readable_file(path: Path) -> Path:
    if not path.is_file():
        raise CliError(f"no such file: {path}")
    return path


def _first_line(error: BaseException) -> str:
    text = str(error).strip()
    return text.splitlines()[0] if text else "no details"
