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
    """The bearer token's user: ``Authenticate`` first (the session denylist included), so a
    revoked session never reaches the profile, cached or not.

    It takes the token rather than the caller's claims so that ``GET /auth/me``, the hottest
    path, resolves one dependency: Litestar resolves two or more in a task group, which
    costs more than the rest of the request (litestar-org/litestar#4563)."""

    def __init__(self, *, authenticate: Authenticate, profiles: UserProfiles) -> None:
        self._authenticate = authenticate
        self._profiles = profiles

    async def execute(self, bearer_token: str | None) -> User:
        claims = await self._authenticate.execute(bearer_token)
        user = await self._profiles.profile(claims.user_id)
        if user is None or user.disabled:
            raise InvalidAccessToken()
        return user


class UncachedProfiles(UserProfiles):
    def __init__(self, users: UserRepository) -> None:
        self._users = users

    async def profile(self, user_id: int) -> User | None:
        return await self._users.get(user_id)
