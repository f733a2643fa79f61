"""RecoverLostGrants: after the grant store lost its data, the denylist comes back from
SQL before the store is used again, and sessions left without a grant end."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

import pytest

from application.grant_recovery import RecoverLostGrants
from domain.assurance import Assurance
from domain.entities import RefreshGrant, Session
from domain.errors import StorageUnavailable
from infrastructure.grants.memory import MemoryGrantStore
from tests.fakes.clock import FakeClock
from tests.fakes.repositories import MemorySessionRepository
from tests.fakes.security import RecordingAudit
from tests.unit.world import policy

SIGNED_IN = Assurance(datetime(2026, 1, 1, tzinfo=UTC), ("pwd",))

T0 = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
ACCESS = policy().access_ttl  # 15 minutes
MINUTE = timedelta(minutes=1)


def session(session_id: str, created: datetime = T0 - timedelta(hours=1)) -> Session:
    return Session(
        id=session_id,
        user_id=7,
        ip_address=None,
        user_agent=None,
        created_at=created,
        last_used_at=created,
        expires_at=created + timedelta(days=7),
    )


class World:
    def __init__(self, grants: MemoryGrantStore | None = None) -> None:
        self.grants = grants or MemoryGrantStore()
        self.sessions = MemorySessionRepository()
        self.audit = RecordingAudit()
        self.clock = FakeClock(T0)
        self.recovery = RecoverLostGrants(
            integrity=self.grants,
            grants=self.grants,
            sessions=self.sessions,
            policy=policy(),
            clock=self.clock,
            audit=self.audit,
            page=2,
        )

    async def live(self, session_id: str, *, granted: bool = False, **kw: datetime) -> None:
        await self.sessions.add(session(session_id, **kw))
        if granted:
            grant = RefreshGrant(
                session_id=session_id,
                user_id=7,
                token_hash=f"hash-{session_id}",
                idle_expires_at=T0 + timedelta(days=1),
                absolute_expires_at=T0 + timedelta(days=7),
                assurance=SIGNED_IN,
            )
            await self.grants.issue(grant, T0)

    async def revoked(self, session_id: str, at: datetime) -> None:
        await self.sessions.add(session(session_id))
        await self.sessions.revoke(session_id, at, "logout")


async def test_an_intact_store_is_left_alone() -> None:
    world = World()
    await world.grants.seal()
    await world.live("orphan")
    await world.revoked("recent", T0 - MINUTE)
    assert await world.recovery.execute() is False
    orphan = await world.sessions.get("orphan")
    assert orphan is not None
    assert orphan.is_live(T0)
    assert await world.grants.is_denied("recent", T0) is False  # nothing re-seeded
    assert world.audit.events == []


async def test_sessions_revoked_within_the_access_lifetime_are_denied_again() -> None:
    world = World()
    await world.revoked("recent", T0 - 5 * MINUTE)
    await world.revoked("older", T0 - 20 * MINUTE)  # its access tokens have all expired
    assert await world.recovery.execute() is True
    # Denied until the last access token minted before the revocation has expired.
    assert await world.grants.is_denied("recent", T0 + 10 * MINUTE - timedelta(seconds=1))
    assert not await world.grants.is_denied("recent", T0 + 10 * MINUTE)
    assert not await world.grants.is_denied("older", T0)
    assert await world.grants.intact() is True
    assert [e.reason for e in world.audit.named("grant_store_sealed")] == ["new_or_lost"]


class SealWatcher(MemoryGrantStore):
    """Records, when the store is sealed, whether the revoked session was denied again."""

    denied_when_sealed: bool | None = None

    async def seal(self) -> None:
        self.denied_when_sealed = await self.is_denied("recent", T0)
        await super().seal()


async def test_the_store_is_sealed_only_once_the_denylist_is_back() -> None:
    world = World(SealWatcher())
    await world.revoked("recent", T0 - MINUTE)
    await world.recovery.execute()
    assert isinstance(world.grants, SealWatcher)
    assert world.grants.denied_when_sealed is True


class FailingDenylist(MemoryGrantStore):
    async def revoke_session(self, session_id: str, deny_until: datetime) -> bool:
        raise StorageUnavailable(backend="grants")


async def test_a_store_whose_denylist_cannot_be_reseeded_stays_unsealed() -> None:
    world = World(FailingDenylist())
    await world.revoked("recent", T0 - MINUTE)
    with pytest.raises(StorageUnavailable):
        await world.recovery.execute()
    assert await world.grants.intact() is False  # the service keeps refusing it


async def test_live_sessions_without_a_grant_end_and_their_access_tokens_are_denied() -> None:
    world = World()
    for sid in ("orphan-a", "orphan-b", "orphan-c"):  # more than a page of two
        await world.live(sid)
    await world.live("held", granted=True)
    await world.live("started-since", created=T0 + timedelta(seconds=1))
    assert await world.recovery.execute() is True
    for sid in ("orphan-a", "orphan-b", "orphan-c"):
        ended = await world.sessions.get(sid)
        assert ended is not None
        assert (ended.revoked_at, ended.revoked_reason) == (T0, "grant_lost")
        assert await world.grants.is_denied(sid, T0 + ACCESS - timedelta(seconds=1))
    for sid in ("held", "started-since"):
        kept = await world.sessions.get(sid)
        assert kept is not None
        assert kept.revoked_at is None
        assert not await world.grants.is_denied(sid, T0)
    revoked = world.audit.named("session_revoked")
    assert sorted((e.session_id, e.user_id, e.reason) for e in revoked) == [
        ("orphan-a", 7, "grant_lost"),
        ("orphan-b", 7, "grant_lost"),
        ("orphan-c", 7, "grant_lost"),
    ]


class UnreachableAtFirst(MemoryGrantStore):
    def __init__(self, failures: int) -> None:
        super().__init__()
        self.failures = failures

    async def intact(self) -> bool:
        if self.failures:
            self.failures -= 1
            raise StorageUnavailable(backend="grants")
        return await super().intact()


async def test_run_keeps_looking_through_an_outage_until_the_store_is_repaired() -> None:
    grants = UnreachableAtFirst(failures=3)
    world = World(grants)
    await world.revoked("recent", T0 - MINUTE)
    stop = asyncio.Event()
    task = asyncio.create_task(world.recovery.run(stop, every=0.01))
    async with asyncio.timeout(5):
        while not await grants.is_denied("recent", T0):
            await asyncio.sleep(0.01)
    stop.set()
    await task
    assert grants.failures == 0
    assert await grants.intact() is True


async def test_a_sign_in_in_flight_as_the_recovery_starts_keeps_its_session() -> None:
    """Its row is written, its grant a moment later: a session started just before the
    recovery and still without a grant is asked about again after the settle."""
    world = World()
    world.recovery = RecoverLostGrants(
        integrity=world.grants,
        grants=world.grants,
        sessions=world.sessions,
        policy=policy(),
        clock=world.clock,
        audit=world.audit,
        settle=1.0,
    )
    await world.live("in-flight", created=T0 - timedelta(seconds=2))
    await world.live("lost-just-before", created=T0 - timedelta(seconds=3))
    await world.live("lost-long-before")

    recovery = asyncio.create_task(world.recovery.execute())
    await asyncio.sleep(0.1)  # the recovery is waiting for the sessions started just before
    ended_first = await world.sessions.get("lost-long-before")
    assert ended_first is not None
    assert ended_first.revoked_at is not None
    grant = RefreshGrant(
        session_id="in-flight",
        user_id=7,
        token_hash="hash-in-flight",
        idle_expires_at=T0 + timedelta(days=1),
        absolute_expires_at=T0 + timedelta(days=7),
        assurance=SIGNED_IN,
    )
    await world.grants.issue(grant, T0)  # the sign-in stores its grant meanwhile
    assert await recovery is True

    kept = await world.sessions.get("in-flight")
    lost = await world.sessions.get("lost-just-before")
    assert kept is not None
    assert kept.revoked_at is None
    assert lost is not None
    assert lost.revoked_reason == "grant_lost"
