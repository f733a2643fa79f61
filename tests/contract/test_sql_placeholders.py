"""The SQL seam: queries carry Postgres' numbered placeholders, on both dialects unchanged."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from infrastructure.persistence.database import Database
from tests.contract.conftest import adapters
from tests.contract.sql import sql_database


@pytest.fixture(params=adapters(["sqlite", "postgres"]))
async def database(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Database]:
    async with sql_database(request.param, request, tmp_path) as opened:
        yield opened


async def test_numbered_placeholders_bind_by_number_in_any_order(database: Database) -> None:
    async with database.transaction(write=False) as tx:
        row = await tx.fetchone(
            "SELECT CAST($2 AS TEXT) AS second, CAST($1 AS TEXT) AS first,"
            " CAST($1 AS TEXT) AS again",
            "one",
            "two",
        )
    assert row == {"second": "two", "first": "one", "again": "one"}


async def test_a_question_mark_inside_a_string_literal_is_data(database: Database) -> None:
    async with database.transaction() as tx:
        await tx.execute(
            "INSERT INTO one_time_values (key, value, expires_at) VALUES ('why?', $1, $2)",
            b"because",
            datetime(2030, 1, 1, tzinfo=UTC),
        )
        row = await tx.fetchone("SELECT value FROM one_time_values WHERE key = 'why?'")
    assert row is not None
    assert bytes(row["value"]) == b"because"
