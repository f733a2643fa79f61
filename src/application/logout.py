from __future__ import annotations

from dataclasses import dataclass

from application.caller_session import CallerSession
from application.client import ClientInfo
from application.revocation import SessionRevoker


@dataclass(frozen=True, slots=True, kw_only=True)
class LogoutCommand:
    refresh_token: str | None
    bearer_token: str | None
    client: ClientInfo


class Logout:
    """Idempotent: an absent, unknown or dead token is simply nothing to do."""

    def __init__(self, *, caller_session: CallerSession, revoker: SessionRevoker) -> None:
        self._caller_session = caller_session
        self._revoker = revoker

    async def execute(self, command: LogoutCommand) -> None:
        session = await self._caller_session.of(command.refresh_token, command.bearer_token)
        if session is not None:
            await self._revoker.revoke(
                session.session_id, session.user_id, "logout", command.client
            )
