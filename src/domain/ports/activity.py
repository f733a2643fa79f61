"""The account's own record: its security activity, and the mails sent to it.

What a user may read about themselves (GDPR Art. 15) and take with them (Art. 20), and
what goes when the account does (Art. 17).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol


@dataclass(frozen=True, slots=True, kw_only=True)
class NewActivity:
    """A security event of one user, as the audit log heard it. Never carries a secret."""

    user_id: int
    type: str
    at: datetime
    ip_address: str | None = None
    user_agent: str | None = None
    session_id: str | None = None
    method: str | None = None  # how a sign-in or re-authentication proved the user (amr)
    reason: str | None = None
    actor: str | None = None  # "admin_api" or "cli": an administrator did it


@dataclass(frozen=True, slots=True, kw_only=True)
class Activity(NewActivity):
    id: int


@dataclass(frozen=True, slots=True, kw_only=True)
class SentMail:
    subject: str
    created_at: datetime
    sent_at: datetime | None


class SecurityActivity(Protocol):
    async def add(self, entries: Sequence[NewActivity]) -> None:
        """Store them; an entry of a user who no longer exists is dropped (an erased account
        keeps nothing, not even the events of its own erasure)."""
        ...

    async def page(self, user_id: int, *, before: int | None, limit: int) -> list[Activity]:
        """Up to ``limit`` of the user's entries with an id below ``before``, newest first."""
        ...

    async def delete_older(self, before: datetime, limit: int) -> int:
        """Delete at most ``limit`` entries (any user's) from before ``before``; how many."""
        ...


class MailHistory(Protocol):
    async def sent_to(self, user_id: int) -> list[SentMail]:
        """The mails queued for the user's address since the account was made, oldest
        first: subjects and dates only, never a body (a body may carry a live token; no
        subject does)."""
        ...
