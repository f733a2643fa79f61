"""The refresh grant store: one token family per session, only hashes at rest.

Every method is one atomic step on the backend (RFC 9700 §4.14.2 rotation with reuse
detection). Time is always passed in, so expiry never depends on the backend's clock.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Protocol

from domain.assurance import Assurance
from domain.entities import RefreshGrant


@dataclass(frozen=True, slots=True, kw_only=True)
class RateLimit:
    """One sliding-window hit (``RateLimiter.hit``), counted in the rotation's own step."""

    key: str
    limit: int
    window: timedelta


@dataclass(frozen=True, slots=True, kw_only=True)
class Rotation:
    # The family and generation the presented token names (its MAC checked by the
    # application); its successor's generation is one more.
    session_id: str
    presented_hash: str
    presented_generation: int
    successor_hash: str
    now: datetime
    idle_ttl: timedelta
    grace: timedelta
    deny_until: datetime  # access tokens of a session revoked for reuse die until then
    # Counted first; over the limit, nothing rotates and the answer is ``Throttled``.
    limit: RateLimit | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class Rotated:
    """The presented token was current; the successor is current now."""

    session_id: str
    user_id: int
    idle_expires_at: datetime
    absolute_expires_at: datetime
    role: str
    assurance: Assurance


@dataclass(frozen=True, slots=True, kw_only=True)
class GraceReplay:
    """The presented token was the previous one, within the grace window."""

    session_id: str
    user_id: int
    idle_expires_at: datetime
    absolute_expires_at: datetime
    role: str
    assurance: Assurance


@dataclass(frozen=True, slots=True, kw_only=True)
class Reused:
    """An old token came back: the whole session was revoked in the same step."""

    session_id: str
    user_id: int


@dataclass(frozen=True, slots=True)
class SessionRef:
    session_id: str
    user_id: int


@dataclass(frozen=True, slots=True)
class Invalid:
    reason: str  # unknown | expired | revoked


@dataclass(frozen=True, slots=True)
class Throttled:
    """Over the rotation's rate limit: retry after ``wait`` seconds."""

    wait: int


RotationOutcome = Rotated | GraceReplay | Reused | Invalid | Throttled


class SessionIdsOfUser(Protocol):
    """Where a grant store that keeps no per-user index learns a user's sessions."""

    async def session_ids_of(self, user_id: int) -> list[str]:
        """Every session of the user that may still hold a grant: revoked or not, started
        within the absolute session lifetime."""
        ...


class RefreshGrantStore(Protocol):
    async def issue(self, grant: RefreshGrant, now: datetime) -> None:
        """Start a session's token family with its first token."""
        ...

    async def rotate(self, rotation: Rotation) -> RotationOutcome:
        """``domain.rotation.rotate_family`` on ``rotation.session_id``'s family, applied in
        one atomic step: read the family, decide, write what the rule keeps. The caller
        presents only genuine tokens of that family (their MAC checked), so the store
        keeps no per-token entry. With a ``rotation.limit`` the hit is counted first, in
        the same round trip where the backend allows (Valkey: one script)."""
        ...

    async def revoke_session(self, session_id: str, deny_until: datetime) -> bool:
        """Drop the session's grant and deny its access tokens; False if it had none."""
        ...

    async def revoke_user(
        self, user_id: int, deny_until: datetime, keep: str | None = None
    ) -> list[str]:
        """Revoke every session of the user but ``keep``, in O(that user's sessions)."""
        ...

    async def set_role(self, user_id: int, role: str) -> int:
        """Carry ``role`` in every live grant of the user from now on (the next refresh
        mints it); the number of grants changed."""
        ...

    async def reassure(self, session_id: str, assurance: Assurance) -> bool:
        """The session's user proved who they are again: its live grant carries
        ``assurance`` from now on (the next refresh mints it). False if it has none, or one
        past its idle or absolute expiry at ``assurance.auth_time``: a proof never extends a
        session's lifetime."""
        ...

    async def is_denied(self, session_id: str, now: datetime) -> bool:
        """True while access tokens of this session must be refused."""
        ...

    async def with_grants(self, session_ids: Sequence[str]) -> set[str]:
        """Those of ``session_ids`` whose token family is still stored (expired or not):
        the recovery after a lost store ends the others (``application.grant_recovery``)."""
        ...

    async def ping(self) -> None: ...


class ExpiredGrants(Protocol):
    """A grant store that keeps expired token families until told (SQL; Valkey expires its
    keys itself)."""

    async def delete_expired(self, before: datetime, limit: int) -> int:
        """Delete at most ``limit`` families expired (idle or absolute) before ``before``;
        how many."""
        ...
