"""PurgeExpired: what can never matter again goes, in batches; what a live session, the
grant-loss repair or an operator may still need stays. Its loop survives failures."""

from __future__ import annotations

import asyncio
import logging
from datetime import UTC, datetime, timedelta

import pytest

from application.housekeeping import MAIL_KEPT, SLACK, Purged, PurgeExpired
from application.signals import PurgeSecurityEvents, SignalPolicy
from domain.assurance import Assurance
from domain.entities import NewUser, RefreshGrant, Session
from domain.errors import StorageUnavailable
from domain.ports import MailKind, MailToken, NewActivity, OutgoingMail, SignalStream
from infrastructure.grants.memory import MemoryGrantStore
from tests.fakes.activity import MemorySecurityActivity
from tests.fakes.clock import FakeClock
from tests.fakes.mail import MemoryMail
from tests.fakes.repositories import MemorySessionRepository, MemoryUserRepository
from tests.fakes.signals import MemorySecurityEvents
from tests.fakes.webhooks import EmptyWebhookOutbox
from tests.unit.world import policy

SIGNED_IN = Assurance(datetime(2026, 1, 1, tzinfo=UTC), ("pwd",))

NOW = datetime(2026, 6, 1, tzinfo=UTC)
MAX_AGE = policy().max_age  # 30 days
KEEP = timedelta(minutes=16)  # security events: an access token's lifetime and a minute
HOUR, DAY = timedelta(hours=1), timedelta(days=1)
RETENTION = timedelta(days=90)
MAIL = OutgoingMail(recipient="one@example.com", subject="s", text="t", html="<p>h</p>")


def session(session_id: str, created: datetime, expires: datetime | None = None) -> Session:
    return Session(
        id=session_id,
        user_id=1,
        ip_address=None,
        user_agent=None,
        created_at=created,
        last_used_at=created,
        expires_at=expires or min(created + 7 * DAY, created + MAX_AGE),
    )


class World:
    def __init__(self, *, batch: int = 1_000, max_batches: int = 100) -> None:
        self.sessions = MemorySessionRepository()
        self.grants = MemoryGrantStore()
        self.users = MemoryUserRepository()
        self.mail = MemoryMail(self.users)
        self.activity = MemorySecurityActivity(self.users)
        self.clock = FakeClock(NOW)
        self.signals = MemorySecurityEvents()
        self.purge = PurgeExpired(
            sessions=self.sessions,
            grants=self.grants,
            mail=self.mail,
            outbox=self.mail,
            webhooks=EmptyWebhookOutbox(),
            signals=PurgeSecurityEvents(
                events=self.signals, clock=self.clock, policy=SignalPolicy(issuer="i", keep=KEEP)
            ),
            activity=self.activity,
            activity_retention=RETENTION,
            policy=policy(),
            clock=self.clock,
            batch=batch,
            max_batches=max_batches,
        )

    async def grant(self, session_id: str, idle: datetime) -> None:
        await self.grants.issue(
            RefreshGrant(
                session_id=session_id,
                user_id=1,
                token_hash=f"hash-{session_id}",
                idle_expires_at=idle,
                absolute_expires_at=idle + DAY,
                assurance=SIGNED_IN,
            ),
            idle - 7 * DAY,
        )

    async def token(self, token_hash: str, expires: datetime) -> None:
        async with self.mail.begin() as work:
            await work.tokens.issue(
                MailToken(
                    token_hash=token_hash, user_id=1, kind=MailKind.VERIFY_EMAIL, expires_at=expires
                )
            )

    async def settled_mail(self, at: datetime, *, sent: bool = True) -> int:
        async with self.mail.begin() as work:
            await work.outbox.enqueue(MAIL, at - HOUR)
        [queued] = await self.mail.claim(at, timedelta(minutes=5), 1)
        if sent:
            await self.mail.sent(queued.id, at)
        else:
            await self.mail.give_up(queued.id, at, "smtp 550")
        return queued.id


async def test_a_round_deletes_only_what_can_never_matter_again() -> None:
    world = World()
    past_lifetime = NOW - MAX_AGE - SLACK - HOUR
    await world.sessions.add(session("over", past_lifetime))
    await world.sessions.add(session("within-slack", NOW - MAX_AGE - SLACK + HOUR))
    await world.sessions.add(session("live", NOW - DAY))
    await world.sessions.add(session("revoked-lately", past_lifetime))
    await world.sessions.revoke("revoked-lately", NOW - HOUR, "revoke_all")  # repair needs it
    await world.sessions.add(session("longer-lifetime", past_lifetime, NOW + DAY))
    await world.grant("expired", NOW - SLACK - HOUR)
    await world.grant("expired-lately", NOW - HOUR)
    await world.token("old", NOW - SLACK - HOUR)
    await world.token("lately", NOW - HOUR)
    await world.settled_mail(NOW - MAIL_KEPT - HOUR)
    await world.settled_mail(NOW - MAIL_KEPT - HOUR, sent=False)
    kept_mail = await world.settled_mail(NOW - MAIL_KEPT + HOUR)
    async with world.mail.begin() as work:
        await work.outbox.enqueue(MAIL, NOW - 30 * DAY)  # never sent: waits however long

    purged = await world.purge.execute()

    assert purged == Purged(sessions=1, grants=1, mail_tokens=1, mails=2)
    assert sorted(world.sessions.sessions) == [
        "live",
        "longer-lifetime",
        "revoked-lately",
        "within-slack",
    ]
    assert await world.grants.with_grants(["expired", "expired-lately"]) == {"expired-lately"}
    assert list(world.mail.token_rows) == ["lately"]
    assert len(world.mail.rows) == 2
    assert kept_mail in world.mail.rows
    assert await world.mail.backlog(NOW) == (1, (30 * DAY).total_seconds())
    assert await world.purge.execute() == Purged(sessions=0, grants=0, mail_tokens=0, mails=0)


async def test_a_round_stops_after_its_batches_and_the_next_goes_on() -> None:
    world = World(batch=2, max_batches=2)
    for number in range(5):
        await world.sessions.add(session(f"s{number}", NOW - 2 * MAX_AGE))

    first = await world.purge.execute()
    second = await world.purge.execute()

    assert (first.sessions, second.sessions) == (4, 1)
    assert world.sessions.sessions == {}


async def test_sessions_go_by_their_start_not_their_last_expiry_alone() -> None:
    """Expired a week ago but started within the lifetime: a store without a per-user
    index still asks for it (``SqlSessionIdsOfUser``), so it stays until its lifetime ends."""
    world = World()
    started = NOW - MAX_AGE + DAY
    await world.sessions.add(session("idle-expired", started, started + 7 * DAY))

    assert (await world.purge.execute()).sessions == 0
    world.clock.advance((DAY + SLACK + HOUR).total_seconds())
    assert (await world.purge.execute()).sessions == 1


class Failing(MemorySessionRepository):
    """Down, then broken, then working again."""

    def __init__(self) -> None:
        super().__init__()
        self.failures: list[Exception] = [StorageUnavailable(), RuntimeError("disk on fire")]
        self.emptied = asyncio.Event()

    async def delete_ended(
        self, started_before: datetime, ended_before: datetime, limit: int
    ) -> int:
        if self.failures:
            raise self.failures.pop(0)
        deleted = await super().delete_ended(started_before, ended_before, limit)
        if not self.sessions:
            self.emptied.set()
        return deleted


async def test_the_loop_survives_an_outage_and_a_failure_and_purges_later(
    caplog: pytest.LogCaptureFixture,
) -> None:
    world = World()
    sessions = Failing()
    await sessions.add(session("over", NOW - 2 * MAX_AGE))
    purge = PurgeExpired(
        sessions=sessions,
        grants=world.grants,
        mail=world.mail,
        outbox=world.mail,
        webhooks=EmptyWebhookOutbox(),
        signals=PurgeSecurityEvents(
            events=world.signals, clock=world.clock, policy=SignalPolicy(issuer="i", keep=KEEP)
        ),
        activity=world.activity,
        activity_retention=RETENTION,
        policy=policy(),
        clock=world.clock,
    )
    stop = asyncio.Event()

    with caplog.at_level(logging.INFO, logger="authgate"):
        task = asyncio.create_task(purge.run(stop, every=0.01))
        async with asyncio.timeout(5):
            await sessions.emptied.wait()
        stop.set()
        await task

    assert sessions.failures == []
    warnings = [r for r in caplog.records if r.levelno == logging.WARNING]
    assert [r.getMessage() for r in warnings] == [
        "housekeeping round failed, tried again next round"
    ]
    assert "RuntimeError: disk on fire" in caplog.text  # with its traceback
    assert any("deleted 1 sessions" in r.getMessage() for r in caplog.records)


async def test_the_loop_ends_when_told_without_a_round() -> None:
    world = World()
    await world.sessions.add(session("over", NOW - 2 * MAX_AGE))
    stop = asyncio.Event()
    stop.set()

    await world.purge.run(stop, every=60)

    assert "over" in world.sessions.sessions


async def test_security_events_go_once_every_token_they_name_has_expired() -> None:
    world = World()
    old = world.signals.session_revoked("old", NOW - KEEP - timedelta(seconds=1))
    recent = world.signals.session_revoked("recent", NOW - KEEP + timedelta(seconds=1))

    purged = await world.purge.execute()

    assert purged.security_events == 1
    assert world.signals.events == [recent]
    assert old not in world.signals.events


async def test_a_stream_nobody_polled_for_as_long_as_an_event_is_kept_closes() -> None:
    world = World()
    for name, polled in (("idle", NOW - KEEP - timedelta(seconds=1)), ("live", NOW - KEEP)):
        stream = SignalStream(id=name, receiver="orders", created_at=polled, polled_at=polled)
        await world.signals.open_stream(stream, 10)

    purged = await world.purge.execute()

    assert purged.signal_streams == 1
    assert list(world.signals.opened) == ["live"]


async def test_activity_older_than_the_retention_goes_and_the_rest_stays() -> None:
    world = World()
    user = await world.users.add(
        NewUser(email="one@example.com", password_hash=None, name=None, role="user", created_at=NOW)
    )
    for at in (NOW - RETENTION - HOUR, NOW - RETENTION + HOUR):
        await world.activity.add([NewActivity(user_id=user.id, type="session_started", at=at)])

    purged = await world.purge.execute()

    assert purged.activity == 1
    [kept] = await world.activity.page(user.id, before=None, limit=10)
    assert kept.at == NOW - RETENTION + HOUR
