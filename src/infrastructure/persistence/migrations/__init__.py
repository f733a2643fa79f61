"""Versioned SQL migrations, one folder per dialect, applied in order by ``authgate migrate``."""

from __future__ import annotations

from datetime import UTC, datetime
from importlib import resources

from infrastructure.persistence.database import Database

_LEDGER = (
    "CREATE TABLE IF NOT EXISTS schema_migrations"
    " (version TEXT PRIMARY KEY, applied_at TEXT NOT NULL)"
)


def _migrations(dialect: str) -> list[tuple[str, str]]:
    folder = resources.files(__package__).joinpath(dialect)
    files = sorted((f for f in folder.iterdir() if f.name.endswith(".sql")), key=lambda f: f.name)
    return [(f.name.removesuffix(".sql"), f.read_text()) for f in files]


def _statements(script: str) -> list[str]:
    lines = [line for line in script.splitlines() if not line.lstrip().startswith("--")]
    return [s.strip() for s in "\n".join(lines).split(";") if s.strip()]


async def pending(database: Database) -> list[str]:
    async with database.transaction() as tx:
        await tx.execute(_LEDGER)
        done = {
            row["version"] for row in await tx.fetchall("SELECT version FROM schema_migrations")
        }
    return [version for version, _ in _migrations(database.dialect) if version not in done]


async def migrate(database: Database) -> list[str]:
    """Apply what is pending, each migration in its own transaction; the applied versions."""
    applied: list[str] = []
    for version, script in _migrations(database.dialect):
        async with database.transaction() as tx:
            await tx.execute(_LEDGER)
            await database.lock_key(tx, "authgate-migrations")
            if await tx.fetchone(
                "SELECT 1 AS done FROM schema_migrations WHERE version = $1", version
            ):
                continue
            for statement in _statements(script):
                await tx.execute(statement)
            await tx.execute(
                "INSERT INTO schema_migrations (version, applied_at) VALUES ($1, $2)",
                version,
                datetime.now(UTC).isoformat(),
            )
        applied.append(version)
    return applied
