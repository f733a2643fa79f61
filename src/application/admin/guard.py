from __future__ import annotations

from domain.entities import User
from domain.errors import Forbidden, InvalidAccessToken
from domain.ports import AccessClaims, UserRepository


class RequireAdmin:
    """The caller must be an admin now, not only when its token was issued: the role is
    read from the database on every admin request (OWASP ASVS 5.0 V8.3.1, authorization at
    a trusted service layer; V8.3.2, a changed permission applies immediately)."""

    def __init__(self, *, users: UserRepository) -> None:
        self._users = users

    async def execute(self, claims: AccessClaims) -> User:
        user = await self._users.get(claims.user_id)
        if user is None or user.disabled:
            raise InvalidAccessToken()
        if not user.is_admin:
            raise Forbidden()
        return user
