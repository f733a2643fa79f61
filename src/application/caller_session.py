"""Naming the caller's own session from what it sent: its refresh token, else its access
token. Written once, for logout and for the steps that end every *other* session."""

from __future__ import annotations

from application.authenticate import Authenticate
from domain.errors import InvalidAccessToken
from domain.ports import RefreshTokens, SessionRef, SessionRepository


class CallerSession:
    def __init__(
        self,
        *,
        sessions: SessionRepository,
        refresh_tokens: RefreshTokens,
        authenticate: Authenticate,
    ) -> None:
        self._sessions = sessions
        self._refresh_tokens = refresh_tokens
        self._authenticate = authenticate

    async def of(self, refresh_token: str | None, bearer_token: str | None) -> SessionRef | None:
        """The refresh token's session; else, only then, the bearer token's."""
        if refresh_token:
            found = await self._refresh_session(refresh_token)
            if found is not None:
                return found
        if not bearer_token:
            return None
        try:
            claims = await self._authenticate.execute(bearer_token)
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
