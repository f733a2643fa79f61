"""The bookkeeping table ``schema_migrations``: which file was applied when, and its SHA-256."""

from __future__ import annotations

from dataclasses import dataclass
from hashlib import sha256

from infrastructure.persistence.database import Database

_CREATE = (
    "CREATE TABLE IF NOT EXISTS schema_migrations"
    " (version TEXT PRIMARY KEY, applied_at TEXT NOT NULL, checksum TEXT NOT NULL)"
)
_HAS_CHECKSUM = {
    "sqlite": "SELECT COUNT(*) AS n FROM pragma_table_info('schema_migrations')"
    " WHERE name = 'checksum'",
    "postgres": "SELECT COUNT(*) AS n FROM information_schema.columns"
    " WHERE table_schema = current_schema() AND table_name = 'schema_migrations'"
    " AND column_name = 'checksum'",
}


@dataclass(frozen=True, slots=True)
class Migration:
    version: str
    script: str
    checksum: str

    @classmethod
    def of_file(cls, name: str, content: bytes) -> Migration:
        return cls(name.removesuffix(".sql"), content.decode("utf-8"), sha256(content).hexdigest())

    @property
    def file_name(self) -> str:
        return f"{self.version}.sql"


@dataclass(frozen=True, slots=True)
class Applied:
    applied_at: str
    checksum: str | None  # None: applied before checksums and no file of it is left


async def prepare(database: Database, migrations: list[Migration]) -> dict[str, Applied]:
    """Create the ledger, or upgrade one from before checksums in place (the column added and
    filled from the files as they are now); the versions applied so far."""
    async with database.transaction() as tx:
        await database.lock_key(tx, "authgate-migrations")
        await tx.execute(_CREATE)
        row = await tx.fetchone(_HAS_CHECKSUM[database.dialect])
        if row is not None and int(row["n"]) == 0:
            await tx.execute("ALTER TABLE schema_migrations ADD COLUMN checksum TEXT")
            for migration in migrations:
                await tx.execute(
                    "UPDATE schema_migrations SET checksum = $1 WHERE version = $2",
                    migration.checksum,
                    migration.version,
                )
        rows = await tx.fetchall("SELECT version, applied_at, checksum FROM schema_migrations")
    return {str(r["version"]): Applied(str(r["applied_at"]), r["checksum"]) for r in rows}


def recorded(migration: Migration, applied_at: str) -> str:
    """The file's script behind its bookkeeping row: one script, for one transaction.

    The row comes first, so a second process applying the same file at the same moment
    stops at the primary key before it runs any of the file.
    """
    values = ", ".join(_literal(v) for v in (migration.version, applied_at, migration.checksum))
    return (
        f"INSERT INTO schema_migrations (version, applied_at, checksum) VALUES ({values});\n"
        f"{migration.script}\n;"
    )


def _literal(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"
