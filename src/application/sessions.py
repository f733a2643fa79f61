from __future__ import annotations

from dataclasses import dataclass

from application.client import ClientInfo
from application.revocation import SessionRevoker
from domain.entities import Session
from domain.errors import SessionNotFound
from domain.ports import AccessClaims, Clock, SessionRepository


@dataclass(frozen=True, slots=True, kw_only=True)
class RevokeCommand:
    caller: AccessClaims
    keep_current: bool
    client: ClientInfo


class RevokeSessions:
    """Sign out everywhere (or everywhere else, with ``keep_current``)."""

    def __init__(self, *, revoker: SessionRevoker) -> None:
        self._revoker = revoker

    async def execute(self, command: RevokeCommand) -> None:
        keep = command.caller.session_id if command.keep_current else None
        await self._revoker.revoke_all(command.caller.user_id, keep, command.client)


@dataclass(frozen=True, slots=True, kw_only=True)
class DeviceSession:
    session: Session
    current: bool


class ListSessions:
    def __init__(self, *, sessions: SessionRepository, clock: Clock) -> None:
        self._sessions = sessions
        self._clock = clock

    async def execute(self, caller: AccessClaims) -> list[DeviceSession]:
        live = await self._sessions.list_live(caller.user_id, self._clock.now())
        return [DeviceSession(session=s, current=s.id == caller.session_id) for s in live]


@dataclass(frozen=True, slots=True, kw_only=True)
class RevokeOneCommand:
    caller: AccessClaims
    session_id: str
    client: ClientInfo


class RevokeSession:
    """Ends one of the caller's own sessions; anyone else's is indistinguishable from none."""

    def __init__(
        self, *, sessions: SessionRepository, revoker: SessionRevoker, clock: Clock
    ) -> None:
        self._sessions = sessions
        self._revoker = revoker
        self._clock = clock

    async def execute(self, command: RevokeOneCommand) -> None:
        session = await self._sessions.get(command.session_id)
        if (
            session is None
            or session.user_id != command.caller.user_id
            or not session.is_live(self._clock.now())
        ):
            raise SessionNotFound()
        await self._revoker.revoke(
            session.id, command.caller.user_id, "revoked_by_user", command.client
        )
