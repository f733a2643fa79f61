from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol


@dataclass(frozen=True, slots=True, kw_only=True)
class AuditEvent:
    """A security event. Never carries a password, token or hash."""

    event: str
    user_id: int | None = None
    session_id: str | None = None
    ip_address: str | None = None
    user_agent: str | None = None
    reason: str | None = None
    method: str | None = None  # how the user proved who they are (the amr, space-separated)
    actor_id: int | None = None  # the admin who did it, for administrative events
    actor: str | None = None  # an administrative event's way in: "admin_api" or "cli"
    target: str | None = None  # what an administrative event acted on, if not a user
    # Its account activity was written in the transaction of the change it tells of (by the
    # adapter that made the change): the audit log only logs it.
    with_change: bool = False


class AuditLog(Protocol):
    def record(self, event: AuditEvent) -> None: ...
