from __future__ import annotations

from dataclasses import dataclass

from application.common import ClientInfo
from application.refresh import MAX_REFRESH_TOKEN_LENGTH
from application.revocation import SessionRevoker
from domain.ports import AccessClaims, Clock, RefreshGrantStore, RefreshTokens


@dataclass(frozen=True, slots=True, kw_only=True)
class LogoutCommand:
    refresh_token: str | None
    caller: AccessClaims | None
    client: ClientInfo


class Logout:
    """Idempotent: an absent, unknown or dead token is simply nothing to do."""

    def __init__(
        self,
        *,
        grants: RefreshGrantStore,
        refresh_tokens: RefreshTokens,
        revoker: SessionRevoker,
        clock: Clock,
    ) -> None:
        self._grants = grants
        self._refresh_tokens = refresh_tokens
        self._revoker = revoker
        self._clock = clock

    async def execute(self, command: LogoutCommand) -> None:
        session_id: str | None = None
        token = command.refresh_token
        if token and len(token) <= MAX_REFRESH_TOKEN_LENGTH:
            digest = self._refresh_tokens.digest(token)
            session_id = await self._grants.session_of(digest, self._clock.now())
        if session_id is None and command.caller is not None:
            session_id = command.caller.session_id
        if session_id is not None:
            user_id = command.caller.user_id if command.caller else None
            await self._revoker.revoke(session_id, user_id, "logout", command.client)
