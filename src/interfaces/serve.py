"""``authgate serve``: apply pending migrations, then serve the API under granian with the
host, port and workers from the settings. Needs only the runtime dependencies."""

from __future__ import annotations

import asyncio
import multiprocessing
import os
import shutil
import sys
import tempfile

from granian import Granian
from granian.constants import Interfaces

from domain.errors import StorageUnavailable, cause_of
from infrastructure.config import Settings
from infrastructure.persistence import migrations
from interfaces.bootstrap.backends import migrate

APP_FACTORY = "interfaces.http.asgi:app_from_environment"


def serve(settings: Settings) -> int:
    try:
        applied = asyncio.run(migrate(settings))
    except migrations.MigrationError as e:
        print(f"authgate serve: {e}", file=sys.stderr)
        return 1
    except StorageUnavailable as e:
        print(f"authgate serve: database unavailable: {cause_of(e)}", file=sys.stderr)
        return 1
    if applied:
        print(f"applied {', '.join(applied)}", file=sys.stderr)
    # /metrics adds up the workers through prometheus_client's multiprocess files: a fresh
    # directory per run, removed at the end (or PROMETHEUS_MULTIPROC_DIR if set: empty it
    # before each start).
    own_metrics_dir = settings.metrics and not os.environ.get("PROMETHEUS_MULTIPROC_DIR")
    if own_metrics_dir:
        os.environ["PROMETHEUS_MULTIPROC_DIR"] = tempfile.mkdtemp(prefix="authgate-metrics.")
    # Workers start as fresh interpreters (spawn, not fork): each reads the environment set
    # above when it imports prometheus_client, and inherits no state of this process.
    multiprocessing.set_start_method("spawn", force=True)
    try:
        # Every worker builds its app from the same environment (and .env) as this process.
        Granian(
            APP_FACTORY,
            address=settings.host,
            port=settings.port,
            workers=settings.workers,
            interface=Interfaces.ASGI,
            factory=True,
            # A worker that dies (killed, out of memory) is replaced while the others keep
            # serving; without this granian stops them all and exits. The same worker dying
            # again within 5.5 s of its replacement is a crash loop: granian exits then.
            respawn_failed_workers=True,
        ).serve()
    finally:
        if own_metrics_dir:
            shutil.rmtree(os.environ.pop("PROMETHEUS_MULTIPROC_DIR"), ignore_errors=True)
    return 0
