from __future__ import annotations

from application.client import ClientInfo, audit_event
from application.session_issuer import SessionPolicy
from domain.ports import AuditLog, Clock, RefreshGrantStore, SessionRepository


class SessionRevoker:
    """Ends one session everywhere: its grant, its row, and its access tokens at once."""

    def __init__(
        self,
        *,
        sessions: SessionRepository,
        grants: RefreshGrantStore,
        policy: SessionPolicy,
        clock: Clock,
        audit: AuditLog,
    ) -> None:
        self._sessions = sessions
        self._grants = grants
        self._policy = policy
        self._clock = clock
        self._audit = audit

    async def revoke(self, session_id: str, user_id: int, reason: str, client: ClientInfo) -> None:
        now = self._clock.now()
        await self._grants.revoke_session(session_id, self._policy.deny_until(now))
        await self._sessions.revoke(session_id, now, reason)
        audit_event(
            self._audit,
            "session_revoked",
            client,
            user_id=user_id,
            session_id=session_id,
            reason=reason,
        )

    async def revoke_all(
        self, user_id: int, keep: str | None, client: ClientInfo, reason: str = "revoke_all"
    ) -> list[str]:
        now = self._clock.now()
        revoked = await self._grants.revoke_user(user_id, self._policy.deny_until(now), keep)
        revoked_rows = await self._sessions.revoke_all(user_id, now, reason, keep)
        for session_id in sorted(set(revoked) | set(revoked_rows)):
            audit_event(
                self._audit,
                "session_revoked",
                client,
                user_id=user_id,
                session_id=session_id,
                reason=reason,
            )
        return revoked
