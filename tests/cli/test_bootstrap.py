"""The composition root a CLI command opens: every use case, and nothing running beside it
(the grant store's watch, the outbox sender, housekeeping and the session writer are the
HTTP lifespan's alone)."""

from __future__ import annotations

import asyncio
from pathlib import Path

from infrastructure.config import load_settings
from interfaces.bootstrap import open_service
from interfaces.bootstrap.backends import migrate


async def test_opening_the_service_starts_no_task_and_a_command_runs_on_it(
    tmp_path: Path,
) -> None:
    settings = load_settings(
        {
            "AUTH_DATABASE_URL": f"sqlite:///{tmp_path / 'authgate.db'}",
            "AUTH_KEYS_FILE": str(tmp_path / "jwks.json"),
        },
        dotenv=None,
    )
    await migrate(settings)
    before = asyncio.all_tasks()

    async with open_service(settings) as service:
        assert asyncio.all_tasks() == before
        assert [loop.name for loop in service.loops] == [
            "authgate-grant-recovery",
            "authgate-outbox-sender",
            "authgate-housekeeping",
            "authgate-session-touches",
            "authgate-security-activity",
        ]
        purged = await service.cases.purge_expired.execute()

    assert purged.sessions == 0
    assert asyncio.all_tasks() == before
