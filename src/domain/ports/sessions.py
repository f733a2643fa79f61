from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Protocol

from domain.entities import Session
from domain.ports.audit import AuditEvent


class SessionRepository(Protocol):
    """Device sessions: who signed in from where, and whether it still counts.

    ``told``: the audit event of the change (``session_started``, ``session_revoked`` with
    the client and reason); its row in the account's activity is written in the change's
    transaction, with the session's id, for each session the call started or ended.
    """

    async def add(self, session: Session, told: AuditEvent | None) -> None: ...

    async def get(self, session_id: str) -> Session | None: ...

    async def touch(
        self, session_id: str, last_used_at: datetime, expires_at: datetime
    ) -> None: ...

    async def revoke(
        self, session_id: str, now: datetime, reason: str, told: AuditEvent | None
    ) -> bool:
        """Mark one live session revoked; False when it was not live."""
        ...

    async def revoke_all(
        self,
        user_id: int,
        now: datetime,
        reason: str,
        keep: str | None = None,
        *,
        told: AuditEvent | None,
    ) -> list[str]:
        """Revoke every live session of the user but ``keep``; returns the revoked ids."""
        ...

    async def list_live(self, user_id: int, now: datetime) -> list[Session]:
        """Unrevoked, unexpired sessions, newest first."""
        ...

    async def revoke_many(
        self,
        session_ids: Sequence[str],
        now: datetime,
        reason: str,
        told: AuditEvent | None,
    ) -> list[str]:
        """Revoke those of ``session_ids`` that are live, in one step; the revoked ids."""
        ...

    async def revoked_since(self, since: datetime) -> list[Session]:
        """Every session (any user) revoked after ``since``, oldest revocation first."""
        ...

    async def live_page(
        self, now: datetime, created_before: datetime, after: str = "", limit: int = 500
    ) -> list[Session]:
        """Live sessions of any user created before ``created_before``, in id order, the
        ``limit`` first with an id above ``after`` (a keyset page: pass the last id on)."""
        ...

    async def delete_ended(
        self, started_before: datetime, ended_before: datetime, limit: int
    ) -> int:
        """Delete at most ``limit`` sessions started before ``started_before`` that ended
        before ``ended_before``: expired by then, and revoked by then if revoked at all.
        How many went (fewer than ``limit``: none is left)."""
        ...
