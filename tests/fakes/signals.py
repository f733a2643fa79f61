"""Security events kept in memory, for the unit tests of the Shared Signals transmitter."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from domain.ports import SecurityEvent, SecurityEvents
from domain.ports.signals import SESSION_REVOKED


class MemorySecurityEvents(SecurityEvents):
    def __init__(self) -> None:
        self.events: list[SecurityEvent] = []
        self.acks: set[tuple[str, int]] = set()

    def session_revoked(
        self, session_id: str, at: datetime, reason: str = "logout"
    ) -> SecurityEvent:
        event = SecurityEvent(
            id=len(self.events) + 1,
            kind=SESSION_REVOKED,
            session_id=session_id,
            reason=reason,
            occurred_at=at,
        )
        self.events.append(event)
        return event

    async def unacknowledged(
        self, receiver: str, since: datetime, limit: int
    ) -> list[SecurityEvent]:
        kept = [e for e in self.events if e.occurred_at >= since]
        return [e for e in kept if (receiver, e.id) not in self.acks][:limit]

    async def acknowledge(self, receiver: str, event_ids: Sequence[int]) -> None:
        known = {e.id for e in self.events}
        self.acks |= {(receiver, i) for i in event_ids if i in known}

    async def delete_before(self, before: datetime, limit: int) -> int:
        gone = [e for e in self.events if e.occurred_at < before][:limit]
        self.events = [e for e in self.events if e not in gone]
        return len(gone)
