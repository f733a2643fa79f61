"""What administrators need beyond the sign-in paths: browse users, change their standing,
erase them. Kept apart from ``UserRepository`` so the request paths stay small."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Protocol

from domain.entities import ExternalIdentity, NewUser, User
from domain.ports.audit import AuditEvent
from domain.ports.mail import OutgoingMail


class UserAdministration(Protocol):
    async def page(self, *, after: int | None, limit: int, email: str | None) -> list[User]:
        """Up to ``limit`` users with an id above ``after``, by id; ``email`` matches exactly."""
        ...

    async def identities(self, user_id: int) -> list[ExternalIdentity]:
        """The user's provider identities, oldest first."""
        ...

    async def set_disabled(
        self,
        user_id: int,
        disabled_at: datetime | None,
        now: datetime,
        told: AuditEvent | None,
    ) -> bool:
        """Disable (a time) or enable (None); a disabled user keeps the first time.
        False when there is no such user. ``told`` (here and in ``set_role``): the audit
        event of the change, its activity row written in the change's transaction when the
        user is there. Disabling (or demoting, in ``set_role``) the last active admin raises
        ``LastAdmin`` and changes nothing, however many such changes run at once."""
        ...

    async def set_role(
        self, user_id: int, role: str, now: datetime, told: AuditEvent | None
    ) -> bool:
        """False when there is no such user."""
        ...

    async def last_active_admin(self, user_id: int) -> bool:
        """Whether this user is an admin, not disabled, and no other admin is."""
        ...

    async def erase(
        self, user_id: int, now: datetime, farewell: OutgoingMail | None = None
    ) -> bool:
        """The user and everything stored about it in this database, in one transaction,
        ``farewell`` queued for the erased address in it. False when there was no such
        user (and nothing is queued)."""
        ...

    async def insert_new(self, users: Sequence[NewUser], now: datetime) -> set[str]:
        """Insert, in one transaction, those whose email is free (no user has it and no live
        way back keeps it); the emails inserted."""
        ...

    async def taken(self, emails: Sequence[str], now: datetime) -> set[str]:
        """Which of these emails already belong to a user, or a live way back keeps."""
        ...
