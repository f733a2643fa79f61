"""The in-process grant store: for tests and single-process development.

The rotation decision is the domain's (``domain.rotation``); this keeps the state it needs:
one family per session, found by session id.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from datetime import datetime

from domain.assurance import Assurance
from domain.entities import RefreshGrant
from domain.ports import RateLimiter, Rotation, RotationOutcome, Throttled
from domain.rotation import GrantFamily, rotate_family
from infrastructure.grants.memory.rate_limiter import MemoryRateLimiter


class MemoryGrantStore:
    def __init__(self, limiter: RateLimiter | None = None) -> None:
        self._limiter = limiter or MemoryRateLimiter()
        self._families: dict[str, GrantFamily] = {}
        self._user_sessions: dict[int, set[str]] = {}
        self._denied: dict[str, datetime] = {}
        # Lost with the process while the SQL sessions stay: a new store starts unsealed.
        self._sealed = False

    async def issue(self, grant: RefreshGrant, now: datetime) -> None:
        self._families[grant.session_id] = GrantFamily.issued(grant)
        self._user_sessions.setdefault(grant.user_id, set()).add(grant.session_id)

    async def rotate(self, rotation: Rotation) -> RotationOutcome:
        if (limit := rotation.limit) is not None:
            wait = await self._limiter.hit(limit.key, limit.limit, limit.window, rotation.now)
            if wait is not None:
                return Throttled(wait)
        family = self._families.get(rotation.session_id)
        step = rotate_family(family, rotation)
        if family is None:
            return step.outcome
        if step.deny_until is not None:
            self._denied[family.session_id] = step.deny_until
        if step.family is None:
            self._drop(family.session_id)
        else:
            self._families[family.session_id] = step.family
        return step.outcome

    async def revoke_session(self, session_id: str, deny_until: datetime) -> bool:
        self._denied[session_id] = deny_until
        return self._drop(session_id)

    async def revoke_user(
        self, user_id: int, deny_until: datetime, keep: str | None = None
    ) -> list[str]:
        revoked = sorted(self._user_sessions.get(user_id, set()) - {keep})
        for session_id in revoked:
            await self.revoke_session(session_id, deny_until)
        return revoked

    async def set_role(self, user_id: int, role: str) -> int:
        live = [sid for sid in self._user_sessions.get(user_id, set()) if sid in self._families]
        for session_id in live:
            self._families[session_id] = replace(self._families[session_id], role=role)
        return len(live)

    async def reassure(self, session_id: str, assurance: Assurance) -> bool:
        family = self._families.get(session_id)
        now = assurance.auth_time
        if family is None or min(family.idle_expires_at, family.absolute_expires_at) <= now:
            return False
        self._families[session_id] = replace(family, assurance=assurance)
        return True

    async def is_denied(self, session_id: str, now: datetime) -> bool:
        until = self._denied.get(session_id)
        return until is not None and until > now

    async def with_grants(self, session_ids: Sequence[str]) -> set[str]:
        return {session_id for session_id in session_ids if session_id in self._families}

    async def delete_expired(self, before: datetime, limit: int) -> int:
        # Deny markers past their time go too (the SQL store sweeps its own on sign-ins).
        self._denied = {sid: until for sid, until in self._denied.items() if until >= before}
        expired = [
            sid
            for sid, f in self._families.items()
            if f.idle_expires_at < before or f.absolute_expires_at < before
        ][:limit]
        for session_id in expired:
            self._drop(session_id)
        return len(expired)

    async def intact(self) -> bool:
        return self._sealed

    async def seal(self) -> None:
        self._sealed = True

    async def ping(self) -> None:
        return None

    def _drop(self, session_id: str) -> bool:
        family = self._families.pop(session_id, None)
        if family is None:
            return False
        self._user_sessions.get(family.user_id, set()).discard(session_id)
        return True
