"""The account's security activity: every audit event that names a user, kept for that user
to read (``GET /auth/activity``; OWASP ASVS 5.0 V16.2, GDPR Art. 15).

The use cases already audit each security event (sign-ins with their method, failures,
refresh-token reuse, factor and password changes, sessions ended, an administrator's
actions), so the activity is that stream, not a second list to keep in step: a new event
audited anywhere shows up here without more code.

Written two ways, each event once. The event of a change (``change_event``) is handed to
the storage port that makes the change, and the adapter writes its row in the change's
transaction (``infrastructure.persistence.account_events.record_event``), beside its webhook
deliveries: the row commits or rolls back with the change. Every change is written so: a
sign-up (by password, passkey, email code or identity provider), a session started or
ended, a password changed, reset or set, an address verified, an account secured, the
credentials of an unverified account dropped, an authenticator app enabled or disabled,
recovery codes regenerated or one used, a passkey added or removed, and an administrator's
disable, enable, role change and second-factor reset. The event reaches the port
explicitly, as an argument (``told``), not through a context value: it carries the
client's address and browser and what only the use case knows (the amr, the reason, the
actor). Every such port requires it, so a use case cannot forget it (``None`` where a
change has nothing to show). Such an event says so (``with_change``) and the recorder
below only logs it.

The others are attempts and notices that change nothing stored here: failed sign-ins and
codes, refresh-token reuse, rate limits, breached passwords refused, mails queued, an
account exported, an unlock (the limits live in the grant store). They are written behind
the answer: kept in this process and written in one short transaction by a loop every
second, before this process lists an account's activity, and when the service stops. Never
before the answer: a known address's entry would cost its request a transaction an unknown
address's does not, and tell them apart by time (OWASP Authentication Cheat Sheet). A
process that dies in that second loses those rows, never a change's.
"""

from __future__ import annotations

import asyncio
import logging

from application.admin import cursor
from application.pacing import stopped
from domain.activity import activity_of
from domain.errors import FieldError, StorageUnavailable, ValidationFailed, cause_of
from domain.ports import (
    AccessClaims,
    Activity,
    AuditEvent,
    AuditLog,
    Clock,
    NewActivity,
    SecurityActivity,
)

log = logging.getLogger("authgate")

PAGE_MAX = 100
PAGE_DEFAULT = 20


class ActivityRecorder(AuditLog):
    """The audit log every use case writes to: it passes each event on, and keeps those
    that name a user, and whose change did not write them already, for the account's
    activity."""

    def __init__(
        self, *, audit: AuditLog, activity: SecurityActivity, clock: Clock, every: float = 1.0
    ) -> None:
        self._audit = audit
        self._activity = activity
        self._clock = clock
        self._every = every
        self._pending: list[NewActivity] = []

    def record(self, event: AuditEvent) -> None:
        self._audit.record(event)
        if event.with_change:
            return
        entry = activity_of(event, self._clock.now())
        if entry is not None:
            self._pending.append(entry)

    async def flush(self) -> None:
        """Write what waits, in one transaction; kept for the next try if it fails."""
        entries, self._pending = self._pending, []
        try:
            await self._activity.add(entries)
        except BaseException:
            self._pending[:0] = entries
            raise

    async def flush_quietly(self) -> None:
        try:
            await self.flush()
        except StorageUnavailable as e:
            log.warning("security activity not written yet: database unavailable: %s", cause_of(e))

    async def run(self, stop: asyncio.Event) -> None:
        while not await stopped(stop, self._every):
            await self.flush_quietly()
        await self.flush_quietly()


class ListActivity:
    """The caller's own events, newest first, a page at a time (an opaque cursor)."""

    def __init__(self, *, recorder: ActivityRecorder, activity: SecurityActivity) -> None:
        self._recorder = recorder
        self._activity = activity

    async def execute(
        self, caller: AccessClaims, limit: int | None, after: str | None
    ) -> tuple[list[Activity], str | None]:
        size = PAGE_DEFAULT if limit is None else limit
        if not 1 <= size <= PAGE_MAX:
            raise ValidationFailed([FieldError("limit", f"must be between 1 and {PAGE_MAX}")])
        before = cursor.decode(after)
        await self._recorder.flush()  # this process's latest failures are in the page too
        page = await self._activity.page(caller.user_id, before=before, limit=size + 1)
        more = len(page) > size
        page = page[:size]
        return page, cursor.encode(page[-1].id) if more else None


async def everything(activity: SecurityActivity, user_id: int) -> list[Activity]:
    """Every entry of the user, newest first (an export: the retention bounds it)."""
    found: list[Activity] = []
    before: int | None = None
    while True:
        page = await activity.page(user_id, before=before, limit=PAGE_MAX)
        found.extend(page)
        if len(page) < PAGE_MAX:
            return found
        before = page[-1].id
