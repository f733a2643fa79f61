"""``authgate purge``: one housekeeping round for operators who prefer cron, its counts
printed; a session past its lifetime goes, a live one stays."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

from domain.entities import Session
from infrastructure.config import load_settings
from infrastructure.persistence.sessions import SqlSessionRepository
from interfaces.bootstrap.backends import open_database
from tests.backends import run_sync
from tests.cli.conftest import Authgate
from tests.cli.test_users_commands import import_users

DAY = timedelta(days=1)


async def _sessions(*started: datetime) -> set[str]:
    """Add a session of user 1 started at each of ``started``; every session id left."""
    database = open_database(load_settings())
    try:
        sessions = SqlSessionRepository(database)
        for number, at in enumerate(started):
            await sessions.add(
                Session(
                    id=f"s{number}",
                    user_id=1,
                    ip_address=None,
                    user_agent=None,
                    created_at=at,
                    last_used_at=at,
                    expires_at=at + 7 * DAY,
                )
            )
        async with database.transaction(write=False) as tx:
            rows = await tx.fetchall("SELECT id FROM sessions")
        return {str(row["id"]) for row in rows}
    finally:
        await database.close()


def test_purge_deletes_what_ended_long_ago_and_prints_the_counts(
    authgate: Authgate, tmp_path: Path
) -> None:
    import_users(authgate, tmp_path, "one@site.com")
    now = datetime.now(UTC)
    max_age = timedelta(seconds=load_settings().session_max_age)
    assert run_sync(_sessions(now - max_age - 2 * DAY, now - DAY)) == {"s0", "s1"}

    first = authgate("purge")
    again = authgate("purge")

    assert (first.code, first.err) == (0, "")
    assert first.out == "deleted 1 sessions, 0 token families, 0 mail tokens, 0 mails\n"
    assert run_sync(_sessions()) == {"s1"}
    assert again.out == "deleted 0 sessions, 0 token families, 0 mail tokens, 0 mails\n"


def test_purge_refuses_a_database_not_migrated(unmigrated: Authgate) -> None:
    outcome = unmigrated("purge")

    assert outcome.code == 1
    assert "not migrated" in outcome.err
    assert "authgate migrate" in outcome.err
