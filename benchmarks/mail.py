"""Mail measurements: forgot-password and email sign-in request timing for a known vs an
unknown email (no enumeration through timing), and outbox throughput to a real SMTP server
on loopback."""

from __future__ import annotations

import json
import statistics
import time
from collections.abc import MutableMapping
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from litestar.types import ASGIApp
from tests.servers.smtp import SmtpSink

from application.email.sender import DeliveryPolicy, OutboxSender
from domain.ports import OutgoingMail
from infrastructure.audit import JsonAuditLog
from infrastructure.config import load_settings
from infrastructure.mail.smtp import SmtpMailer
from infrastructure.persistence.mail_work import SqlMailUnitOfWork
from infrastructure.persistence.migrations import migrate as apply_migrations
from infrastructure.persistence.outbox import SqlOutboxDelivery
from infrastructure.persistence.sqlite import SqliteDatabase
from infrastructure.system import SystemClock
from interfaces.bootstrap.backends import migrate
from interfaces.http.app import create_app

Result = tuple[str, float, str, bool]


async def bench_forgot(rounds: int, workdir: Path) -> list[Result]:
    known, unknown = await _known_and_unknown(
        rounds, workdir, "forgot", "/auth/password/forgot", {"AUTH_FORGOT_LIMIT": "100000"}
    )
    ratio = known / unknown
    return [
        ("forgot median, known email", known, "ms", True),
        ("forgot median, unknown email", unknown, "ms", True),
        ("forgot known/unknown ratio", ratio, "x", 0.8 <= ratio <= 1.25),
    ]


async def bench_email_sign_in(rounds: int, workdir: Path) -> list[Result]:
    """The sign-in mail request: a known address's grant and mail are written after the
    202, as at forgot password, so its timing is an unknown one's."""
    known, unknown = await _known_and_unknown(
        rounds,
        workdir,
        "signin",
        "/auth/email/signin/request",
        {"AUTH_FORGOT_LIMIT": "100000", "AUTH_EMAIL_SIGNIN": "true"},
    )
    ratio = known / unknown
    return [
        ("email sign-in request median, known email", known, "ms", True),
        ("email sign-in request median, unknown email", unknown, "ms", True),
        ("email sign-in known/unknown ratio", ratio, "x", 0.8 <= ratio <= 1.25),
    ]


async def _known_and_unknown(
    rounds: int, workdir: Path, name: str, path: str, env: dict[str, str]
) -> tuple[float, float]:
    """Median milliseconds until the answer to ``path`` is whole, for a known and an
    unknown address."""
    settings = load_settings(
        {
            "AUTH_DATABASE_URL": f"sqlite:///{workdir / f'{name}.db'}",
            "AUTH_KEYS_FILE": str(workdir / f"{name}-keys.json"),
            **env,
        },
        dotenv=None,
    )
    await migrate(settings)
    samples: dict[str, list[float]] = {"known": [], "unknown": []}
    app = create_app(settings)
    async with app.lifespan():
        status, _ = await _post(
            app, "/auth/register", {"email": "known@site.com", "password": "x" * 12}
        )
        assert status == 201
        for round_ in range(rounds * 2 + 1):
            for kind in samples:  # interleaved, so the machine's drift hits both
                status, elapsed = await _post(app, path, {"email": f"{kind}@site.com"})
                assert status == 202, status
                if round_:
                    samples[kind].append(elapsed)
    known, unknown = (statistics.median(samples[k]) * 1000 for k in ("known", "unknown"))
    return known, unknown


async def _post(app: ASGIApp, path: str, body: dict[str, str]) -> tuple[int, float]:
    """POST through the ASGI interface itself: the status, and the seconds until the last
    byte of the answer was handed to the server. A test client (and httpx's ASGI transport)
    returns only once the app's call ends, after the background tasks that a server runs once
    the answer is out: the known address's mail would be timed with it."""
    payload = json.dumps(body).encode()
    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "POST",
        "scheme": "https",
        "path": path,
        "raw_path": path.encode(),
        "root_path": "",
        "query_string": b"",
        "headers": [
            (b"host", b"bench.local"),
            (b"content-type", b"application/json"),
            (b"content-length", str(len(payload)).encode()),
        ],
        "client": ("127.0.0.1", 50000),
        "server": ("bench.local", 443),
    }
    answer = {"status": 0, "at": 0.0}
    delivered = False

    async def receive() -> dict[str, object]:
        nonlocal delivered
        if delivered:
            return {"type": "http.disconnect"}
        delivered = True
        return {"type": "http.request", "body": payload, "more_body": False}

    async def send(message: MutableMapping[str, Any]) -> None:
        if message["type"] == "http.response.start":
            answer["status"] = message["status"]
        elif message["type"] == "http.response.body" and not message.get("more_body"):
            answer["at"] = time.perf_counter()

    started = time.perf_counter()
    await app(scope, receive, send)  # type: ignore[arg-type]
    return int(answer["status"]), answer["at"] - started


async def bench_outbox(count: int, workdir: Path) -> list[Result]:
    database = SqliteDatabase(workdir / "outbox.db")
    await apply_migrations(database)
    now = datetime.now(UTC)
    async with SqlMailUnitOfWork(database).begin() as work:
        for number in range(count):
            await work.outbox.enqueue(_mail(number), now)
    with SmtpSink() as smtp:
        sender = OutboxSender(
            outbox=SqlOutboxDelivery(database),
            mailer=SmtpMailer(smtp.url, "bench@site.com"),
            policy=DeliveryPolicy(give_up_after=timedelta(days=1)),
            clock=SystemClock(),
            audit=JsonAuditLog(),
        )
        started = time.perf_counter()
        while await sender.deliver_due():
            pass
        per_second = count / (time.perf_counter() - started)
        delivered = len(smtp.messages)
    await database.close()
    assert delivered == count, delivered
    return [("outbox mails per second (SQLite -> SMTP)", per_second, "/s", per_second > 20)]


def _mail(number: int) -> OutgoingMail:
    return OutgoingMail(
        recipient=f"user{number}@site.com",
        subject="Reset your authgate password",
        text=f"https://app.example/reset-password?token={number:043d}\n",
        html=f"<p>{number}</p>",
    )
