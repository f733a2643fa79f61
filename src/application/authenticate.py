from __future__ import annotations

from domain.entities import User
from domain.errors import InvalidAccessToken
from domain.ports import (
    AccessClaims,
    AccessTokens,
    Clock,
    RefreshGrantStore,
    UserProfiles,
    UserRepository,
)


class Authenticate:
    """Turns a bearer token into claims: signature and claims, then the session denylist,
    so logout and revocation take effect at once (O(1) per request)."""

    def __init__(self, *, access_tokens: AccessTokens, grants: RefreshGrantStore, clock: Clock):
        self._access_tokens = access_tokens
        self._grants = grants
        self._clock = clock

    async def execute(self, bearer_token: str | None) -> AccessClaims:
        if not bearer_token:
            raise InvalidAccessToken()
        claims = self._access_tokens.verify(bearer_token)
        if await self._grants.is_denied(claims.session_id, self._clock.now()):
            raise InvalidAccessToken()
        return claims


class GetCurrentUser:
    """The caller's profile; ``claims`` come from ``Authenticate``, which has checked the
    session denylist, so a revoked session never gets here, cached profile or not."""

    def __init__(self, *, profiles: UserProfiles) -> None:
        self._profiles = profiles

    async def execute(self, claims: AccessClaims) -> User:
        user = await self._profiles.profile(claims.user_id)
        if user is None or user.disabled:
            raise InvalidAccessToken()
        return user


class UncachedProfiles(UserProfiles):
    def __init__(self, users: UserRepository) -> None:
        self._users = users

    async def profile(self, user_id: int) -> User | None:
        return await self._users.get(user_id)
