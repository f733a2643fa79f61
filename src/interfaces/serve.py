"""``authgate serve``: apply pending migrations, then serve the API under granian with the
host, port and workers from the settings. Needs only the runtime dependencies."""

from __future__ import annotations

import asyncio
import sys

from granian import Granian
from granian.constants import Interfaces

from domain.errors import StorageUnavailable
from infrastructure.config import Settings
from infrastructure.persistence import migrations
from interfaces.http.backends import migrate

APP_FACTORY = "interfaces.http.asgi:app_from_environment"


def serve(settings: Settings) -> int:
    try:
        applied = asyncio.run(migrate(settings))
    except migrations.MigrationError as e:
        print(f"authgate serve: {e}", file=sys.stderr)
        return 1
    except StorageUnavailable as e:
        print(f"authgate serve: database unavailable: {e.__cause__ or e}", file=sys.stderr)
        return 1
    if applied:
        print(f"applied {', '.join(applied)}", file=sys.stderr)
    # Every worker builds its app from the same environment (and .env) as this process.
    Granian(
        APP_FACTORY,
        address=settings.host,
        port=settings.port,
        workers=settings.workers,
        interface=Interfaces.ASGI,
        factory=True,
    ).serve()
    return 0
