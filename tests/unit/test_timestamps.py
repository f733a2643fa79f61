"""The two ways a moment is written: for the API (RFC 3339, seconds, Z) and for SQLite (a
fixed-width UTC text that compares as the moments do), whatever the zone it comes in."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest

from infrastructure.persistence.sqlite_statements import parameters
from interfaces.timestamps import iso

MOMENTS = [
    datetime(2026, 12, 7, 1, 2, 3, tzinfo=UTC),
    datetime(2026, 12, 7, 1, 2, 3, 999_999, tzinfo=UTC),
    datetime(2026, 12, 7, 1, 2, 3, 45, tzinfo=UTC),
    datetime(2026, 12, 7, 3, 2, 3, 45, tzinfo=timezone(timedelta(hours=2))),
    datetime(2026, 12, 6, 20, 2, 3, tzinfo=timezone(timedelta(hours=-5))),
]


@pytest.mark.parametrize("moment", MOMENTS)
def test_the_api_writes_utc_to_the_second_with_a_z(moment: datetime) -> None:
    assert iso(moment) == moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


@pytest.mark.parametrize("moment", MOMENTS)
def test_sqlite_gets_one_fixed_width_utc_text(moment: datetime) -> None:
    written = parameters((moment,))["1"]

    assert written == moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%f+00:00")


def test_the_sqlite_texts_sort_as_the_moments() -> None:
    texts = [str(parameters((moment,))["1"]) for moment in MOMENTS]

    assert sorted(texts) == [str(parameters((m,))["1"]) for m in sorted(MOMENTS)]
