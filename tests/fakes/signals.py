"""Security events kept in memory, for the unit tests of the Shared Signals transmitter."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from datetime import datetime

from domain.ports import SecurityEvent, SecurityEvents, SignalStream
from domain.ports.signals import SESSION_REVOKED


class MemorySecurityEvents(SecurityEvents):
    def __init__(self) -> None:
        self.events: list[SecurityEvent] = []
        self.opened: dict[str, SignalStream] = {}
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

    async def open_stream(self, stream: SignalStream, most: int) -> bool:
        if len(await self.streams(stream.receiver)) >= most:
            return False
        self.opened[stream.id] = stream
        return True

    async def streams(self, receiver: str) -> list[SignalStream]:
        return [s for s in self.opened.values() if s.receiver == receiver]

    async def close_stream(self, receiver: str, stream_id: str) -> bool:
        stream = self.opened.get(stream_id)
        if stream is None or stream.receiver != receiver:
            return False
        del self.opened[stream_id]
        self.acks = {(s, i) for s, i in self.acks if s != stream_id}
        return True

    async def polled(
        self, receiver: str, stream_id: str, now: datetime, acknowledged: Sequence[int]
    ) -> bool:
        stream = self.opened.get(stream_id)
        if stream is None or stream.receiver != receiver:
            return False
        self.opened[stream_id] = replace(stream, polled_at=now)
        known = {e.id for e in self.events}
        self.acks |= {(stream_id, i) for i in acknowledged if i in known}
        return True

    async def unacknowledged(
        self, stream_id: str, since: datetime, limit: int
    ) -> list[SecurityEvent]:
        kept = [e for e in self.events if e.occurred_at >= since]
        return [e for e in kept if (stream_id, e.id) not in self.acks][:limit]

    async def is_open(self, stream_id: str) -> bool:
        return stream_id in self.opened

    async def newest(self) -> int | None:
        return max((e.id for e in self.events), default=None)

    async def delete_before(self, before: datetime, limit: int) -> int:
        gone = [e for e in self.events if e.occurred_at < before][:limit]
        self.events = [e for e in self.events if e not in gone]
        return len(gone)

    async def close_idle(self, polled_before: datetime, limit: int) -> int:
        idle = [s for s in self.opened.values() if s.polled_at < polled_before][:limit]
        for stream in idle:
            await self.close_stream(stream.receiver, stream.id)
        return len(idle)
