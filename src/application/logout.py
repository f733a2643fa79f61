from __future__ import annotations

from dataclasses import dataclass

from application.authenticate import Authenticate
from application.client import ClientInfo
from application.refresh import MAX_REFRESH_TOKEN_LENGTH
from application.revocation import SessionRevoker
from domain.errors import InvalidAccessToken
from domain.ports import Clock, RefreshGrantStore, RefreshTokens, SessionRef


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
        grants: RefreshGrantStore,
        refresh_tokens: RefreshTokens,
        authenticate: Authenticate,
        revoker: SessionRevoker,
        clock: Clock,
    ) -> None:
        self._authenticate = authenticate
        self._grants = grants
        self._refresh_tokens = refresh_tokens
        self._revoker = revoker
        self._clock = clock

    async def execute(self, command: LogoutCommand) -> None:
        session = await self._session(command)
        if session is not None:
            await self._revoker.revoke(
                session.session_id, session.user_id, "logout", command.client
            )

    async def _session(self, command: LogoutCommand) -> SessionRef | None:
        """The refresh token's session; else, only then, the bearer token's."""
        token = command.refresh_token
        if token and len(token) <= MAX_REFRESH_TOKEN_LENGTH:
            digest = self._refresh_tokens.digest(token)
            found = await self._grants.session_of(digest, self._clock.now())
            if found is not None:
                return found
        if not command.bearer_token:
            return None
        try:
            claims = await self._authenticate.execute(command.bearer_token)
        except InvalidAccessToken:
            return None
        return SessionRef(claims.session_id, claims.user_id)
