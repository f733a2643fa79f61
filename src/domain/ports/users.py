from __future__ import annotations

from datetime import datetime
from typing import Protocol

from domain.entities import ExternalIdentity, NewUser, User
from domain.ports.audit import AuditEvent


class UserRepository(Protocol):
    """Users and their external identities. Emails are stored normalised and unique."""

    async def add(self, user: NewUser, told: AuditEvent | None) -> User:
        """Insert a user; raises ``EmailTaken`` when the email exists (also under races).
        ``told``: the sign-up's audit event, its activity row written for the new user in
        the insert's transaction."""
        ...

    async def remove(self, user_id: int) -> None: ...

    async def get(self, user_id: int) -> User | None: ...

    async def get_by_email(self, email: str) -> User | None: ...

    async def get_by_identity(self, provider: str, subject: str) -> User | None: ...

    async def link_identity(self, identity: ExternalIdentity) -> None:
        """Attach (provider, subject) to a user; a second link of the same pair is a no-op."""
        ...

    async def unlink_identities_since(
        self, user_id: int, since: datetime, now: datetime, told: AuditEvent | None
    ) -> list[str]:
        """Detach the user's provider identities linked at or after ``since``; the providers
        of those detached (``told`` is written to the activity when there were any)."""
        ...

    async def rehash_password(
        self, user_id: int, verified: str, password_hash: str, now: datetime
    ) -> None:
        """Store ``password_hash`` in place of ``verified``, the hash a sign-in has just
        checked, and only over it: a password dropped or replaced meanwhile stays so."""
        ...


class UserProfiles(Protocol):
    """Users as shown to themselves: may lag a write made in another process by a second."""

    async def profile(self, user_id: int) -> User | None: ...
