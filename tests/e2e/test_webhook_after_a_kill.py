"""A real server killed (SIGKILL to its process group: granian and its worker, as a crash of
the host would) while a webhook is in flight, and a new server started on the same database:
the event still arrives, with the webhook-id of the attempt the kill cut off (at least once;
a receiver drops the duplicate by that id). On SQLite, and on PostgreSQL with Valkey."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest

from infrastructure.config import load_settings
from infrastructure.persistence.database import Database
from interfaces.bootstrap.backends import open_database
from tests.backends import run_sync, run_token
from tests.backends.postgres import truncate
from tests.e2e.conftest import BIN, running_server
from tests.http.helpers import PASSWORD
from tests.servers.webhooks import HANG, WebhookReceiver


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.backends)])
def settings(request: pytest.FixtureRequest, tmp_path: Path) -> dict[str, str]:
    """Of a migrated, empty database."""
    settings = {
        "AUTH_WEBHOOK_ALLOW_HTTP": "true",
        "AUTH_WEBHOOK_ALLOW_PRIVATE": "true",  # the receiver is on loopback
        "AUTH_OUTBOX_POLL_INTERVAL": "0.1",
    }
    if request.param == "postgres":
        url: str = request.getfixturevalue("postgres_url")
        valkey: str = request.getfixturevalue("valkey_server_url")
        settings |= {"AUTH_DATABASE_URL": url, "AUTH_GRANTS_URL": f"{valkey}{run_token()}:"}
    else:
        settings["AUTH_DATABASE_URL"] = f"sqlite:///{tmp_path / 'data' / 'authgate.db'}"
    authgate(tmp_path, settings, "migrate")
    if request.param == "postgres":
        # The worker's database is shared with the modules before this one.
        run_sync(truncate(settings["AUTH_DATABASE_URL"]))
    return settings


@pytest.fixture
def receiver() -> Iterator[WebhookReceiver]:
    # Its secret is the endpoint's, made by the service once the receiver has its URL.
    with WebhookReceiver("whsec_" + "A" * 32, HANG) as receiver:
        yield receiver


def authgate(workdir: Path, settings: dict[str, str], *argv: str) -> str:
    env = {k: v for k, v in os.environ.items() if not k.startswith("AUTH_")} | settings
    done = subprocess.run(
        [BIN / "authgate", *argv], cwd=workdir, env=env, check=True, capture_output=True
    )
    return done.stdout.decode()


def wait_for(condition: Callable[[], bool], within: float, what: str) -> None:
    deadline = time.monotonic() + within
    while not condition():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.05)


def serving(url: str) -> bool:
    try:
        return httpx.get(f"{url}/health/live", timeout=1).status_code == 200
    except httpx.TransportError:
        return False


async def end_lease_now(settings: dict[str, str], workdir: Path) -> int:
    """The claim's two-minute lease runs out: moved to now instead of waited for (the
    contract suite shows a claim held until its lease's end and no longer)."""
    database: Database = open_database(
        load_settings(
            {**settings, "AUTH_KEYS_FILE": str(workdir / "data" / "jwks.json")}, dotenv=None
        )
    )
    try:
        async with database.transaction() as tx:
            return await tx.execute(
                "UPDATE webhook_deliveries SET claimed_until = $1"
                " WHERE claimed_until IS NOT NULL AND delivered_at IS NULL",
                datetime.now(UTC),
            )
    finally:
        await database.close()


def test_an_event_in_flight_when_the_server_is_killed_arrives_from_the_next_server(
    tmp_path: Path, settings: dict[str, str], receiver: WebhookReceiver
) -> None:
    added = authgate(
        tmp_path, settings, "webhooks", "add", receiver.url, "--events", "user.created"
    )
    secret = re.search(r"whsec_\S+", added)
    assert secret is not None
    receiver.verify_with(secret.group())

    with running_server(tmp_path, environment=settings) as first:
        registered = httpx.post(
            f"{first.url}/auth/register", json={"email": "new@site.com", "password": PASSWORD}
        )
        assert registered.status_code == 201, registered.text
        # The receiver holds the request unanswered: the delivery is in flight, claimed.
        wait_for(lambda: len(receiver.received) == 1, 30, "the first attempt")
        os.killpg(first.pid, signal.SIGKILL)
        wait_for(lambda: not serving(first.url), 10, "the server's end")
    [pending] = authgate(tmp_path, settings, "webhooks", "deliveries", "1").splitlines()
    assert re.search(r"attempts=1 .* pending$", pending), pending

    with running_server(tmp_path, environment=settings):
        assert run_sync(end_lease_now(settings, tmp_path)) == 1
        wait_for(lambda: len(receiver.delivered()) == 1, 30, "the delivery")
        time.sleep(0.5)  # nothing more comes

    assert receiver.rejected == []
    cut_off, *again = receiver.received
    assert cut_off.answered == HANG
    assert [r.answered for r in again] == [204]
    assert {r.message_id for r in receiver.received} == {cut_off.message_id}
    assert (cut_off.type, cut_off.data["email"]) == ("user.created", "new@site.com")
    [delivered] = authgate(tmp_path, settings, "webhooks", "deliveries", "1").splitlines()
    assert re.search(r"attempts=2 .* delivered \S+$", delivered), delivered
