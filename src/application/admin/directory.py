"""Reading users as an administrator: pages of users, one user in detail."""

from __future__ import annotations

from dataclasses import dataclass

from application.admin import cursor
from domain.entities import ExternalIdentity, User
from domain.errors import FieldError, UserNotFound, ValidationFailed
from domain.ports import Clock, SessionRepository, UserAdministration, UserRepository
from domain.values import Email

MAX_PAGE = 200


@dataclass(frozen=True, slots=True, kw_only=True)
class UsersQuery:
    limit: int = 50
    cursor: str | None = None
    email: str | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class UsersPage:
    users: list[User]
    next_cursor: str | None  # None on the last page


@dataclass(frozen=True, slots=True, kw_only=True)
class UserDetails:
    user: User
    identities: list[ExternalIdentity]
    live_sessions: int


class ListUsers:
    """Keyset pagination by id: stable under inserts and deletes, O(limit) per page."""

    def __init__(self, *, administration: UserAdministration) -> None:
        self._administration = administration

    async def execute(self, query: UsersQuery) -> UsersPage:
        if not 1 <= query.limit <= MAX_PAGE:
            raise ValidationFailed([FieldError("limit", f"must be between 1 and {MAX_PAGE}")])
        after = cursor.decode(query.cursor)
        email = None
        if query.email is not None:
            try:
                email = Email.parse(query.email).value
            except ValueError as e:
                raise ValidationFailed([FieldError("email", str(e))]) from e
        found = await self._administration.page(after=after, limit=query.limit + 1, email=email)
        users = found[: query.limit]
        more = len(found) > query.limit
        return UsersPage(users=users, next_cursor=cursor.encode(users[-1].id) if more else None)


class ShowUser:
    def __init__(
        self,
        *,
        users: UserRepository,
        administration: UserAdministration,
        sessions: SessionRepository,
        clock: Clock,
    ) -> None:
        self._users = users
        self._administration = administration
        self._sessions = sessions
        self._clock = clock

    async def execute(self, user_id: int) -> UserDetails:
        user = await self._users.get(user_id)
        if user is None:
            raise UserNotFound()
        identities = await self._administration.identities(user_id)
        live = await self._sessions.list_live(user_id, self._clock.now())
        return UserDetails(user=user, identities=identities, live_sessions=len(live))
