from __future__ import annotations

from dataclasses import dataclass

from application.authenticate import Authenticate
from application.client import ClientInfo
from application.revocation import SessionRevoker
from domain.errors import InvalidAccessToken
from domain.ports import RefreshTokens, SessionRef, SessionRepository


@dataclass(frozen=True, slots=True, kw_only=True)
class LogoutCommand:
    refresh_token: str | None
    bearer_token: str | None
    client: ClientInfo


class Logout:
    """Idempotent: an absent, unknown or dead token is simply nothing to do."""

    def __init__(
        self,
        *,
        sessions: SessionRepository,
        refresh_tokens: RefreshTokens,
        authenticate: Authenticate,
        revoker: SessionRevoker,
    ) -> None:
        self._authenticate = authenticate
        self._sessions = sessions
        self._refresh_tokens = refresh_tokens
        self._revoker = revoker

    async def execute(self, command: LogoutCommand) -> None:
        session = await self._session(command)
        if session is not None:
            await self._revoker.revoke(
                session.session_id, session.user_id, "logout", command.client
            )

    async def _session(self, command: LogoutCommand) -> SessionRef | None:
        """The refresh token's session; else, only then, the bearer token's."""
        if command.refresh_token:
            found = await self._refresh_session(command.refresh_token)
            if found is not None:
                return found
        if not command.bearer_token:
            return None
        try:
            claims = await self._authenticate.execute(command.bearer_token)
        except InvalidAccessToken:
            return None
        return SessionRef(claims.session_id, claims.user_id)

    async def _refresh_session(self, token: str) -> SessionRef | None:
        """A genuine token names its session (MAC checked). A session already revoked is
        nothing to end; one whose row reads expired is ended anyway (the row's expiry is
        written behind, the grant's may still be ahead)."""
        named = self._refresh_tokens.read(token)
        session = None if named is None else await self._sessions.get(named.session_id)
        if session is None or session.revoked_at is not None:
            return None
        return SessionRef(session.id, session.user_id)
