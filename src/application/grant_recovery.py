"""Recovering from a lost grant store: the denylist re-seeded from SQL, orphans ended.

A grant store apart from SQL (Valkey) can lose its data on its own. Without this, the
access tokens of sessions revoked within the access-token lifetime would pass again (their
deny markers are gone), and SQL would go on listing sessions that can no longer refresh.
The store's integrity port tells a loss (``domain.ports.integrity``; Valkey: the epoch
marker, ``infrastructure.grants.valkey.epoch``, whose guard keeps the service's own
client refusing until the store is sealed again).

The order is the point:

1. Re-seed the denylist: every session SQL revoked within the access-token lifetime is
   denied until its revocation plus that lifetime (the latest any of its access tokens
   can expire). Only then
2. seal the store: the service uses it again, and no access token of a revoked session
   was answered 200 in between (OWASP ASVS 5.0 V7.4.1: a terminated session stays
   unusable, even across a failure of the store that records it).
3. End in SQL every live session created before the recovery started whose grant is gone
   ("grant_lost"), and deny its access tokens: it can no longer refresh, so it is over,
   and a session listed nowhere must not go on answering for its last 15 minutes. This
   runs after the seal (it scans every live session, which may take a while, and the
   sessions it ends were not revoked ones). A session started after the recovery began
   is never considered, so a sign-in right after the restart stays. A sign-in in flight
   as the recovery starts has written its session row and not yet its grant: a session
   started within ``RECENT`` of the start is asked about once more after ``SETTLE``, and
   kept if its grant has come meanwhile.
"""

from __future__ import annotations

import asyncio
import logging
from datetime import datetime, timedelta

from application.pacing import stopped
from application.revocation import SessionRevoker
from application.session_policy import SessionPolicy
from domain.entities import Session
from domain.errors import StorageUnavailable, cause_of
from domain.ports import (
    AuditEvent,
    AuditLog,
    Clock,
    GrantStoreIntegrity,
    RefreshGrantStore,
    SessionRef,
    SessionRepository,
)

log = logging.getLogger("authgate")

CHECK_EVERY = 1.0  # seconds between looks at the store's integrity
PAGE = 500  # live sessions per look at their grants
# A sign-in writes its session row, then its grant, a moment later: one that started this
# shortly before the recovery may be in flight; its grant is asked for again after SETTLE.
RECENT = timedelta(seconds=10)
SETTLE = 1.0


class RecoverLostGrants:
    def __init__(
        self,
        *,
        integrity: GrantStoreIntegrity,
        grants: RefreshGrantStore,
        sessions: SessionRepository,
        policy: SessionPolicy,
        clock: Clock,
        audit: AuditLog,
        page: int = PAGE,
        settle: float = SETTLE,
    ) -> None:
        self._integrity = integrity
        self._grants = grants  # reaches the store while it is unsealed (Valkey: unguarded)
        # Orphans are ended the one way sessions end, through that same unguarded store.
        self._revoker = SessionRevoker(
            sessions=sessions, grants=grants, policy=policy, clock=clock, audit=audit
        )
        self._sessions = sessions
        self._policy = policy
        self._clock = clock
        self._audit = audit
        self._page = page
        self._settle = settle

    async def execute(self) -> bool:
        """Repair the store if it lost its data; False when it was intact."""
        if await self._integrity.intact():
            return False
        started = self._clock.now()
        denied = await self._reseed_denylist(started)
        await self._integrity.seal()
        # New or lost: the store cannot tell; what the repair had to do tells the operator.
        self._audit.record(AuditEvent(event="grant_store_sealed", reason="new_or_lost"))
        ended = await self._end_orphans(started)
        log.log(
            logging.WARNING if denied or ended else logging.INFO,
            "grant store sealed (new, or had lost its data): %d revoked sessions denied"
            " again, %d sessions without a grant ended",
            denied,
            ended,
        )
        return True

    async def run(self, stop: asyncio.Event, every: float = CHECK_EVERY) -> None:
        """Look every ``every`` seconds until ``stop`` is set (the app's lifespan, which
        has looked once itself before serving)."""
        unreachable = False
        while not await stopped(stop, every):
            try:
                await self.execute()
            except StorageUnavailable as e:
                if not unreachable:  # once per outage; the store stays refused meanwhile
                    log.warning("grant store recovery waits: %s", cause_of(e))
                unreachable = True
            else:
                unreachable = False

    async def _reseed_denylist(self, now: datetime) -> int:
        revoked = await self._sessions.revoked_since(now - self._policy.access_ttl)
        for session in revoked:
            revoked_at = session.revoked_at or now  # set: it was found revoked
            await self._grants.revoke_session(session.id, self._policy.deny_until(revoked_at))
        return len(revoked)

    async def _end_orphans(self, started: datetime) -> int:
        ended, after, recent = 0, "", []
        while page := await self._sessions.live_page(started, started, after, self._page):
            after = page[-1].id
            held = await self._grants.with_grants([s.id for s in page])
            orphans = [s for s in page if s.id not in held]
            recent += [s for s in orphans if s.created_at > started - RECENT]
            ended += await self._end([s for s in orphans if s.created_at <= started - RECENT])
        if recent:
            await asyncio.sleep(self._settle)
            held = await self._grants.with_grants([s.id for s in recent])
            ended += await self._end([s for s in recent if s.id not in held])
        return ended

    async def _end(self, orphans: list[Session]) -> int:
        if not orphans:
            return 0
        ended = [SessionRef(s.id, s.user_id) for s in orphans]
        return len(await self._revoker.revoke_many(ended, "grant_lost"))
