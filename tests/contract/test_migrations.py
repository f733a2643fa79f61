"""Migrations on both dialects: each file runs whole, is recorded with its SHA-256, fails
without a trace, and is refused once it changed after it was applied."""

from __future__ import annotations

import asyncio
import re
import sqlite3
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from contextlib import closing
from datetime import UTC, datetime
from hashlib import sha256
from pathlib import Path

import pytest

from domain.ports import MailKind, MailToken, SecretBox
from infrastructure.persistence import migrations as migrations_package
from infrastructure.persistence.database import Database
from infrastructure.persistence.mail_work import SqlMailUnitOfWork
from infrastructure.persistence.migrations import (
    MigrationError,
    MigrationState,
    bundled,
    migrate,
    pending,
    read_migrations,
    status,
)
from infrastructure.persistence.sqlite import SqliteDatabase
from infrastructure.persistence.webhooks import SqlWebhookEndpoints, seal_plain_secrets
from infrastructure.security.secret_box import AesGcmSecretBox
from infrastructure.security.secrets_key import load_or_create_secrets_key
from interfaces.cli import main
from tests.contract.webhook_helpers import BOX

# A ';' inside a string literal, and a body of statements inside one statement: a trigger's
# BEGIN … END in SQLite, a $$-quoted function in Postgres. Splitting on ';' breaks both.
WHOLE = {
    "sqlite": """
CREATE TABLE notes (id INTEGER PRIMARY KEY, body TEXT NOT NULL, length INTEGER);
CREATE TRIGGER notes_length AFTER INSERT ON notes BEGIN
    UPDATE notes SET length = length(NEW.body) WHERE id = NEW.id;
END;
INSERT INTO notes (body) VALUES ('first; second');
""",
    "postgres": """
CREATE TABLE notes (id BIGSERIAL PRIMARY KEY, body TEXT NOT NULL, length INTEGER);
CREATE FUNCTION notes_length() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    NEW.length := length(NEW.body);
    RETURN NEW;
END;
$$;
CREATE TRIGGER notes_length BEFORE INSERT ON notes
    FOR EACH ROW EXECUTE FUNCTION notes_length();
INSERT INTO notes (body) VALUES ('first; second');
""",
}
FIRST = "CREATE TABLE first (id INTEGER PRIMARY KEY);\n"
SECOND = "CREATE TABLE second (id INTEGER PRIMARY KEY);\n"
BROKEN = """
CREATE TABLE half (id INTEGER PRIMARY KEY);
INSERT INTO half (id) VALUES (1);
INSERT INTO no_such_table (id) VALUES (1);
"""
TABLES = {
    "sqlite": "SELECT name FROM sqlite_master WHERE type = 'table'",
    "postgres": "SELECT table_name AS name FROM information_schema.tables"
    " WHERE table_schema = current_schema()",
}


def write(folder: Path, name: str, script: str) -> Path:
    (folder / name).write_text(script, "utf-8")
    return folder / name


async def tables(database: Database) -> set[str]:
    async with database.transaction(write=False) as tx:
        return {str(row["name"]) for row in await tx.fetchall(TABLES[database.dialect])}


async def ledger(database: Database) -> dict[str, str]:
    async with database.transaction(write=False) as tx:
        rows = await tx.fetchall("SELECT version, checksum FROM schema_migrations")
    return {str(row["version"]): str(row["checksum"]) for row in rows}


async def test_each_file_runs_whole_so_a_semicolon_in_a_string_or_a_body_is_no_split(
    empty_database: Database, folder: Path
) -> None:
    write(folder, "0001_notes.sql", WHOLE[empty_database.dialect])
    assert await migrate(empty_database, folder) == ["0001_notes"]
    async with empty_database.transaction(write=False) as tx:
        rows = await tx.fetchall("SELECT body, length FROM notes")
    assert rows == [{"body": "first; second", "length": 13}]


async def test_each_applied_file_is_recorded_with_the_sha256_of_its_bytes(
    empty_database: Database, folder: Path
) -> None:
    first = write(folder, "0001_first.sql", FIRST)
    second = write(folder, "0002_second.sql", "-- no newline at the end\n" + SECOND.strip())
    assert await migrate(empty_database, folder) == ["0001_first", "0002_second"]
    assert await ledger(empty_database) == {
        "0001_first": sha256(first.read_bytes()).hexdigest(),
        "0002_second": sha256(second.read_bytes()).hexdigest(),
    }
    assert await migrate(empty_database, folder) == []


async def test_a_failing_migration_leaves_nothing_half_applied(
    empty_database: Database, folder: Path
) -> None:
    write(folder, "0001_first.sql", FIRST)
    write(folder, "0002_broken.sql", BROKEN)
    with pytest.raises(MigrationError, match=r"0002_broken\.sql"):
        await migrate(empty_database, folder)
    assert "half" not in await tables(empty_database)
    assert set(await ledger(empty_database)) == {"0001_first"}
    assert await pending(empty_database, folder) == ["0002_broken"]

    write(folder, "0002_broken.sql", SECOND)
    assert await migrate(empty_database, folder) == ["0002_broken"]
    assert {"first", "second"} <= await tables(empty_database)


async def test_a_file_changed_after_it_was_applied_is_refused_by_name(
    empty_database: Database, folder: Path
) -> None:
    first = write(folder, "0001_first.sql", FIRST)
    await migrate(empty_database, folder)
    first.write_text(FIRST + "CREATE TABLE sneaked_in (id INTEGER);\n", "utf-8")
    write(folder, "0002_second.sql", SECOND)

    with pytest.raises(MigrationError, match=r"0001_first\.sql changed after it was applied"):
        await migrate(empty_database, folder)
    assert not {"sneaked_in", "second"} & await tables(empty_database)


async def test_status_lists_applied_pending_and_changed_files(
    empty_database: Database, folder: Path
) -> None:
    first = write(folder, "0001_first.sql", FIRST)
    write(folder, "0002_second.sql", SECOND)
    assert await status(empty_database, folder) == [
        MigrationState("0001_first", None, changed=False),
        MigrationState("0002_second", None, changed=False),
    ]
    await migrate(empty_database, folder)
    write(folder, "0003_third.sql", "CREATE TABLE third (id INTEGER);\n")
    first.write_text(FIRST.lower(), "utf-8")

    first_state, second_state, third_state = await status(empty_database, folder)
    assert (first_state.version, first_state.changed) == ("0001_first", True)
    assert (second_state.version, second_state.changed) == ("0002_second", False)
    assert first_state.applied_at is not None
    assert second_state.applied_at is not None
    assert third_state == MigrationState("0003_third", None, changed=False)


async def test_a_ledger_from_before_checksums_is_upgraded_in_place(
    empty_database: Database, folder: Path
) -> None:
    first = write(folder, "0001_first.sql", FIRST)
    write(folder, "0002_second.sql", SECOND)
    async with empty_database.transaction() as tx:  # as the old `authgate migrate` left it
        await tx.execute(
            "CREATE TABLE schema_migrations (version TEXT PRIMARY KEY, applied_at TEXT NOT NULL)"
        )
        await tx.execute(FIRST)
        await tx.execute(
            "INSERT INTO schema_migrations (version, applied_at)"
            " VALUES ('0001_first', '2025-01-01T00:00:00+00:00')"
        )

    assert await migrate(empty_database, folder) == ["0002_second"]
    assert (await ledger(empty_database))["0001_first"] == sha256(first.read_bytes()).hexdigest()
    assert (await status(empty_database, folder))[0] == MigrationState(
        "0001_first", "2025-01-01T00:00:00+00:00", changed=False
    )


async def test_two_processes_migrating_at_once_apply_each_file_once(
    empty_databases: Callable[[], Database], folder: Path
) -> None:
    write(folder, "0001_first.sql", FIRST)
    write(folder, "0002_second.sql", SECOND)
    one, other = empty_databases(), empty_databases()
    applied = await asyncio.gather(migrate(one, folder), migrate(other, folder))
    assert sorted(applied[0] + applied[1]) == ["0001_first", "0002_second"]
    assert set(await ledger(other)) == {"0001_first", "0002_second"}


# `authgate migrate` itself, on the bundled SQLite migrations. main() runs its own event
# loop, so it runs in a thread of its own here.


SQLITE_MIGRATIONS = Path(migrations_package.__file__).parent / "sqlite"


def authgate(*argv: str) -> int:
    with ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(main, list(argv)).result()


def test_migrate_status_lists_each_migration_pending_then_applied(
    sqlite_file: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    versions = [m.version for m in read_migrations(bundled("sqlite"))]
    width = max(len(v) for v in versions)
    assert versions[0] == "0001_init"
    assert authgate("migrate", "--status") == 0
    assert capsys.readouterr().out == "".join(f"{v:{width}}  pending\n" for v in versions)
    assert authgate("migrate") == 0
    assert capsys.readouterr().out == f"applied {', '.join(versions)}\n"
    assert authgate("migrate", "--status") == 0
    lines = capsys.readouterr().out.splitlines()
    assert len(lines) == len(versions)
    for version, line in zip(versions, lines, strict=True):
        assert re.fullmatch(rf"{version} *  applied  \d{{4}}-\d\d-\d\dT\S+", line), line


def test_migrate_refuses_a_changed_migration_in_one_line_naming_the_file(
    sqlite_file: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert authgate("migrate") == 0
    with closing(sqlite3.connect(sqlite_file)) as connection, connection:
        connection.execute(
            "UPDATE schema_migrations SET checksum = 'what was applied before'"
            " WHERE version = '0001_init'"
        )
    capsys.readouterr()

    assert authgate("migrate") == 1
    assert capsys.readouterr().err == (
        "authgate migrate: 0001_init.sql changed after it was applied: restore the file"
        " and put the change into a new migration\n"
    )
    assert authgate("migrate", "--status") == 0
    assert re.search(r"^0001_init *  changed  \(applied ", capsys.readouterr().out, re.M)


@pytest.mark.parametrize(
    "url",
    ["postgresql://nobody@127.0.0.1:9/nothing", "sqlite:///./not-a-directory/authgate.db"],
)
def test_migrate_reports_an_unusable_database_in_one_line(
    url: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "not-a-directory").touch()
    monkeypatch.setenv("AUTH_DATABASE_URL", url)
    for command in (["migrate"], ["migrate", "--status"]):
        assert authgate(*command) == 1
        error = capsys.readouterr().err
        assert error.startswith("authgate migrate: database unavailable: ")
        assert error.count("\n") == 1


async def test_0008_drops_the_old_token_index_and_the_families_stored_without_a_role(
    empty_database: Database, folder: Path
) -> None:
    migrations = {m.version: m for m in read_migrations(bundled(empty_database.dialect))}
    for version, migration in migrations.items():
        if version < "0008":
            write(folder, migration.file_name, migration.script)
    await migrate(empty_database, folder)
    async with empty_database.transaction() as tx:  # as the store before 0004 wrote one
        for session_id, role in (("s-old", None), ("s-new", "admin")):
            await tx.execute(
                "INSERT INTO refresh_families (session_id, user_id, current_hash,"
                " idle_expires_at, absolute_expires_at, role)"
                " VALUES ($1, 7, 'h', $2, $2, $3)",
                session_id,
                datetime(2026, 1, 1, tzinfo=UTC),
                role,
            )
    dropped = migrations["0008_drop_unshipped_formats"]
    write(folder, dropped.file_name, dropped.script)

    assert await migrate(empty_database, folder) == ["0008_drop_unshipped_formats"]
    assert "refresh_tokens" not in await tables(empty_database)
    async with empty_database.transaction(write=False) as tx:
        rows = await tx.fetchall("SELECT session_id, role, generation FROM refresh_families")
    assert rows == [{"session_id": "s-new", "role": "admin", "generation": 0}]


PLAIN, PREVIOUS = "whsec_cGxhaW4tc2VjcmV0LWZyb20tMDAxMA==", "whsec_b2xkLXNlY3JldA=="


async def at_0010_with_a_plain_secret(database: Database, folder: Path) -> None:
    """The database as 0010 left it, with an endpoint whose secrets were stored in the clear."""
    for migration in read_migrations(bundled(database.dialect)):
        if migration.version < "0011":
            write(folder, migration.file_name, migration.script)
    await migrate(database, folder)
    async with database.transaction() as tx:
        await tx.execute(
            "INSERT INTO webhook_endpoints (url, events, secret, previous_secret,"
            " previous_until, created_at) VALUES ($1, $2, $3, $4, $5, $5)",
            "https://hooks.example.test/in",
            " user.created ",
            PLAIN,
            PREVIOUS,
            datetime(2026, 1, 1, tzinfo=UTC),
        )


async def stored_secrets(database: Database) -> list[str | None]:
    async with database.transaction(write=False) as tx:
        rows = await tx.fetchall(
            "SELECT secret_sealed, previous_secret_sealed FROM webhook_endpoints"
        )
    return [value for row in rows for value in row.values()]


async def test_0011_and_the_sealing_after_it_leave_no_webhook_secret_in_the_clear(
    empty_database: Database, folder: Path
) -> None:
    await at_0010_with_a_plain_secret(empty_database, folder)
    sealed = next(
        m for m in read_migrations(bundled(empty_database.dialect)) if m.version.startswith("0011")
    )
    write(folder, sealed.file_name, sealed.script)

    assert await migrate(empty_database, folder) == ["0011_webhook_secrets_sealed"]
    assert await seal_plain_secrets(empty_database, lambda: BOX) == 1

    stored = await stored_secrets(empty_database)
    assert all(value and value.startswith("v1.") and "whsec_" not in value for value in stored)
    [endpoint] = await SqlWebhookEndpoints(empty_database, BOX).all()
    assert (endpoint.secret, endpoint.previous_secret) == (PLAIN, PREVIOUS)

    def no_key_needed() -> SecretBox:
        raise AssertionError("nothing is left to seal")

    assert await seal_plain_secrets(empty_database, no_key_needed) == 0
    assert await stored_secrets(empty_database) == stored


async def test_authgate_migrate_seals_the_secrets_with_the_services_key(
    sqlite_file: Path, folder: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    sqlite_file.parent.mkdir(mode=0o700)
    database = SqliteDatabase(sqlite_file)
    try:
        await at_0010_with_a_plain_secret(database, folder)
    finally:
        await database.close()

    assert authgate("migrate") == 0
    assert capsys.readouterr().out.startswith("applied 0011_webhook_secrets_sealed")

    box = AesGcmSecretBox(load_or_create_secrets_key(sqlite_file.parent / "secrets.key"))
    database = SqliteDatabase(sqlite_file)
    try:
        assert not any("whsec_" in str(value) for value in await stored_secrets(database))
        [endpoint] = await SqlWebhookEndpoints(database, box).all()
    finally:
        await database.close()
    assert (endpoint.secret, endpoint.previous_secret) == (PLAIN, PREVIOUS)


async def test_0018_gives_each_queued_mail_the_account_that_had_its_address(
    empty_database: Database, folder: Path
) -> None:
    migrations = {m.version: m for m in read_migrations(bundled(empty_database.dialect))}
    for version, migration in migrations.items():
        if version < "0018":
            write(folder, migration.file_name, migration.script)
    await migrate(empty_database, folder)
    made, before, after = (datetime(2026, 1, d, tzinfo=UTC) for d in (2, 1, 3))
    async with empty_database.transaction() as tx:
        await tx.execute(
            "INSERT INTO users (email, role, created_at, updated_at)"
            " VALUES ('ada@example.com', 'user', $1, $1)",
            made,
        )
        for recipient, at in (
            ("ada@example.com", before),  # a previous account's, at the same address
            ("ada@example.com", after),
            ("nobody@example.com", after),
        ):
            await tx.execute(
                "INSERT INTO outbox (recipient, subject, text, html, created_at, due_at)"
                " VALUES ($1, 's', 't', 'h', $2, $2)",
                recipient,
                at,
            )
    change = migrations["0018_email_change"]
    write(folder, change.file_name, change.script)

    assert await migrate(empty_database, folder) == ["0018_email_change"]
    async with empty_database.transaction(write=False) as tx:
        rows = await tx.fetchall("SELECT user_id FROM outbox ORDER BY id")
    assert [row["user_id"] for row in rows] == [None, 1, None]


async def test_0019_numbers_the_tokens_there_are_and_new_ones_come_after(
    empty_database: Database, folder: Path
) -> None:
    migrations = {m.version: m for m in read_migrations(bundled(empty_database.dialect))}
    for version, migration in migrations.items():
        if version < "0019":
            write(folder, migration.file_name, migration.script)
    await migrate(empty_database, folder)
    made = datetime(2026, 1, 1, tzinfo=UTC)
    async with empty_database.transaction() as tx:
        await tx.execute(
            "INSERT INTO users (email, role, created_at, updated_at)"
            " VALUES ('ada@example.com', 'user', $1, $1)",
            made,
        )
        for name, day in (("first", 8), ("second", 9)):
            await tx.execute(
                "INSERT INTO mail_tokens (hash, user_id, kind, expires_at)"
                " VALUES ($1, 1, 'restore_email', $2)",
                name,
                datetime(2026, 1, day, tzinfo=UTC),
            )
    order = migrations["0019_mail_token_order"]
    write(folder, order.file_name, order.script)

    assert await migrate(empty_database, folder) == ["0019_mail_token_order"]
    async with SqlMailUnitOfWork(empty_database).begin() as work:
        await work.tokens.issue(
            MailToken(
                token_hash="third",
                user_id=1,
                kind=MailKind.RESTORE_EMAIL,
                expires_at=datetime(2026, 1, 7, tzinfo=UTC),  # a clock behind
            )
        )
    async with empty_database.transaction(write=False) as tx:
        rows = await tx.fetchall("SELECT hash FROM mail_tokens ORDER BY seq")
    assert [row["hash"] for row in rows] == ["first", "second", "third"]
