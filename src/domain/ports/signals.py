"""Security events for resource servers (OpenID Shared Signals, CAEP): what a session's end
looks like to a service that verifies authgate's access tokens offline."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

SESSION_REVOKED = "session-revoked"


@dataclass(frozen=True, slots=True, kw_only=True)
class SecurityEvent:
    id: int  # ascending in the order the events were written
    kind: str
    session_id: str | None
    reason: str | None
    occurred_at: datetime


@dataclass(frozen=True, slots=True, kw_only=True)
class SignalStream:
    """One receiver's stream of events (OpenID SSF 1.0 §8.1.1): each verifying process opens
    its own, and what it acknowledges is acknowledged on it alone."""

    id: str
    receiver: str
    created_at: datetime
    polled_at: datetime


class SecurityEvents(Protocol):
    """Written by the storage that ends a session, in the same transaction (see
    ``SessionRepository.revoke``); read here by the receivers' streams that poll for them."""

    async def open_stream(self, stream: SignalStream, most: int) -> bool:
        """Adds ``stream`` unless its receiver has ``most`` streams already (then False)."""
        ...

    async def streams(self, receiver: str) -> list[SignalStream]:
        """The receiver's streams, oldest first."""
        ...

    async def close_stream(self, receiver: str, stream_id: str) -> bool:
        """The receiver's stream and its acknowledgements gone; False if it had none such."""
        ...

    async def polled(
        self, receiver: str, stream_id: str, now: datetime, acknowledged: Sequence[int]
    ) -> bool:
        """The receiver's stream polled ``now``, and the events it ``acknowledged`` never sent
        on it again (ids of no, or no longer kept, event are ignored); False, and nothing
        done, if the receiver has no such stream."""
        ...

    async def unacknowledged(
        self, stream_id: str, since: datetime, limit: int
    ) -> list[SecurityEvent]:
        """Events from ``since`` on not acknowledged on the stream, oldest first."""
        ...

    async def is_open(self, stream_id: str) -> bool:
        """Whether the stream is still open: a keyed look, for a poll that waited."""
        ...

    async def newest(self) -> int | None:
        """The id of the event written last, None with none kept: a look that costs next to
        nothing, for a waiting poll to tell whether an event came since it last looked."""
        ...

    async def delete_before(self, before: datetime, limit: int) -> int: ...

    async def close_idle(self, polled_before: datetime, limit: int) -> int:
        """Streams last polled before ``polled_before`` gone; how many."""
        ...


class EventSigner(Protocol):
    def sign_event(self, claims: Mapping[str, Any]) -> str:
        """A Security Event Token (RFC 8417): ``claims`` signed with the service's current
        key, typed ``secevent+jwt`` so it can never pass for an access token."""
        ...
