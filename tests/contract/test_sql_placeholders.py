"""The SQL seam: queries carry Postgres' numbered placeholders, on both dialects unchanged."""

from __future__ import annotations

from datetime import UTC, datetime

from infrastructure.persistence.database import Database


async def test_numbered_placeholders_bind_by_number_in_any_order(
    migrated_database: Database,
) -> None:
    async with migrated_database.transaction(write=False) as tx:
        row = await tx.fetchone(
            "SELECT CAST($2 AS TEXT) AS second, CAST($1 AS TEXT) AS first,"
            " CAST($1 AS TEXT) AS again",
            "one",
            "two",
        )
    assert row == {"second": "two", "first": "one", "again": "one"}


async def test_a_question_mark_inside_a_string_literal_is_data(migrated_database: Database) -> None:
    async with migrated_database.transaction() as tx:
        await tx.execute(
            "INSERT INTO one_time_values (key, value, expires_at) VALUES ('why?', $1, $2)",
            b"because",
            datetime(2030, 1, 1, tzinfo=UTC),
        )
        row = await tx.fetchone("SELECT value FROM one_time_values WHERE key = 'why?'")
    assert row is not None
    assert bytes(row["value"]) == b"because"
