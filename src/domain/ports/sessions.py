from __future__ import annotations

from datetime import datetime
from typing import Protocol

from domain.entities import Session


class SessionRepository(Protocol):
    """Device sessions: who signed in from where, and whether it still counts."""

    async def add(self, session: Session) -> None: ...

    async def get(self, session_id: str) -> Session | None: ...

    async def touch(
        self, session_id: str, last_used_at: datetime, expires_at: datetime
    ) -> None: ...

    async def revoke(self, session_id: str, now: datetime, reason: str) -> bool:
        """Mark one live session revoked; False when it was not live."""
        ...

    async def revoke_all(
        self, user_id: int, now: datetime, reason: str, keep: str | None = None
    ) -> list[str]:
        """Revoke every live session of the user but ``keep``; returns the revoked ids."""
        ...

    async def list_live(self, user_id: int, now: datetime) -> list[Session]:
        """Unrevoked, unexpired sessions, newest first."""
        ...
