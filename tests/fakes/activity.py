"""The account's activity and mail history in memory; the contract suite holds the SQL
adapter to the same rules."""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from dataclasses import asdict, replace
from datetime import datetime

from domain.activity import activity_of
from domain.ports import (
    Activity,
    AuditEvent,
    MailHistory,
    NewActivity,
    SecurityActivity,
    SentMail,
)
from tests.fakes.mail import MemoryMail
from tests.fakes.repositories import MemoryUserRepository


class MemorySecurityActivity(SecurityActivity):
    def __init__(self, users: MemoryUserRepository) -> None:
        self._users = users
        self._ids = itertools.count(1)
        self.entries: list[Activity] = []

    async def add(self, entries: Sequence[NewActivity]) -> None:
        for entry in entries:
            if entry.user_id in self._users.users:
                self.entries.append(Activity(id=next(self._ids), **asdict(entry)))

    async def tell(self, told: AuditEvent | None, user_id: int, at: datetime) -> None:
        """What the SQL adapters write with a change (``record_event``): its entry."""
        entry = None if told is None else activity_of(replace(told, user_id=user_id), at)
        if entry is not None:
            await self.add([entry])

    async def page(self, user_id: int, *, before: int | None, limit: int) -> list[Activity]:
        mine = [
            e
            for e in reversed(self.entries)
            if e.user_id == user_id and (before is None or e.id < before)
        ]
        return mine[:limit]

    async def delete_older(self, before: datetime, limit: int) -> int:
        old = [e for e in self.entries if e.at < before][:limit]
        self.entries = [e for e in self.entries if e not in old]
        return len(old)

    def erase(self, user_id: int) -> None:
        self.entries = [e for e in self.entries if e.user_id != user_id]


class MemoryMailHistory(MailHistory):
    def __init__(self, users: MemoryUserRepository, mail: MemoryMail) -> None:
        self._users = users
        self._mail = mail

    async def sent_to(self, user_id: int) -> list[SentMail]:
        return [
            SentMail(subject=row.mail.subject, created_at=row.created_at, sent_at=row.sent_at)
            for row in self._mail.rows.values()
            if row.mail.user_id == user_id
        ]
