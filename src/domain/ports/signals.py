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


class SecurityEvents(Protocol):
    """Written by the storage that ends a session, in the same transaction (see
    ``SessionRepository.revoke``); read here by the receivers that poll for them."""

    async def unacknowledged(
        self, receiver: str, since: datetime, limit: int
    ) -> list[SecurityEvent]:
        """Events from ``since`` on that ``receiver`` has not acknowledged, oldest first."""
        ...

    async def acknowledge(self, receiver: str, event_ids: Sequence[int]) -> None:
        """Never sent to ``receiver`` again; ids of no (or no longer kept) event are ignored."""
        ...

    async def delete_before(self, before: datetime, limit: int) -> int: ...


class EventSigner(Protocol):
    def sign_event(self, claims: Mapping[str, Any]) -> str:
        """A Security Event Token (RFC 8417): ``claims`` signed with the service's current
        key, typed ``secevent+jwt`` so it can never pass for an access token."""
        ...
