"""Versioned SQL migrations, one folder per dialect, applied in order by ``authgate migrate``.

Each file runs whole, as one script in one transaction with its bookkeeping row: nothing
splits it into statements (a ``;`` in a string or a function body is just text), and a
file that fails leaves nothing behind. A file must not open or end transactions itself.
The SHA-256 of each applied file is recorded; once a file changed after it was applied,
``migrate`` refuses to run until the file is restored (changes go into a new file).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from importlib import resources
from importlib.resources.abc import Traversable

from infrastructure.persistence.database import Database, ScriptFailed
from infrastructure.persistence.migrations.ledger import Applied, Migration, prepare, recorded

__all__ = ["Migration", "MigrationError", "MigrationState", "migrate", "pending", "status"]


class MigrationError(Exception):
    """A migration cannot be applied; the message names its file."""


@dataclass(frozen=True, slots=True)
class MigrationState:
    version: str
    applied_at: str | None  # None: pending
    changed: bool  # applied, but the file differs from what was applied


def bundled(dialect: str) -> Traversable:
    return resources.files(__package__).joinpath(dialect)


def read_migrations(folder: Traversable) -> list[Migration]:
    files = sorted((f for f in folder.iterdir() if f.name.endswith(".sql")), key=lambda f: f.name)
    return [Migration.of_file(f.name, f.read_bytes()) for f in files]


async def status(database: Database, folder: Traversable | None = None) -> list[MigrationState]:
    """Every migration file: when it was applied, or that it is pending, or changed since."""
    migrations = read_migrations(folder or bundled(database.dialect))
    applied = await prepare(database, migrations)
    return [_state(migration, applied.get(migration.version)) for migration in migrations]


async def pending(database: Database, folder: Traversable | None = None) -> list[str]:
    return [s.version for s in await status(database, folder) if s.applied_at is None]


async def migrate(database: Database, folder: Traversable | None = None) -> list[str]:
    """Apply what is pending, each file in its own transaction; the applied versions."""
    migrations = read_migrations(folder or bundled(database.dialect))
    applied = await prepare(database, migrations)
    changed = [m.file_name for m in migrations if _state(m, applied.get(m.version)).changed]
    if changed:
        raise MigrationError(
            f"{', '.join(changed)} changed after it was applied: restore the file"
            " and put the change into a new migration"
        )
    done: list[str] = []
    for migration in migrations:
        if migration.version not in applied and await _apply(database, migration):
            done.append(migration.version)
    return done


async def _apply(database: Database, migration: Migration) -> bool:
    """Apply one file; False when another process applied the same file meanwhile."""
    try:
        await database.execute_script(recorded(migration, datetime.now(UTC).isoformat()))
    except ScriptFailed as e:
        other = (await prepare(database, [])).get(migration.version)
        if other is not None and other.checksum == migration.checksum:
            return False
        raise MigrationError(f"{migration.file_name} failed and was not applied: {e}") from e
    return True


def _state(migration: Migration, applied: Applied | None) -> MigrationState:
    if applied is None:
        return MigrationState(migration.version, None, changed=False)
    changed = applied.checksum is not None and applied.checksum != migration.checksum
    return MigrationState(migration.version, applied.applied_at, changed=changed)
