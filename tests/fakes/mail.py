"""In-memory mail tokens, outbox and mailer for unit tests; the contract suite holds the SQL
adapters to the same rules."""

from __future__ import annotations

import copy
import itertools
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from domain.errors import EmailTaken
from domain.ports import (
    AccountEmail,
    AuditEvent,
    Held,
    Mailer,
    MailKind,
    MailToken,
    MailTokens,
    MailUnitOfWork,
    MailWork,
    Outbox,
    OutboxDelivery,
    OutgoingMail,
    PreviousAddress,
    QueuedMail,
)
from tests.fakes.repositories import MemoryUserRepository

if TYPE_CHECKING:
    from tests.fakes.activity import MemorySecurityActivity


@dataclass
class Row:
    mail: OutgoingMail
    created_at: datetime
    due_at: datetime
    attempts: int = 0
    claimed_until: datetime | None = None
    sent_at: datetime | None = None
    failed_at: datetime | None = None


class MemoryMail(MailUnitOfWork, OutboxDelivery, MailWork, MailTokens, Outbox, AccountEmail):
    """One object plays every role; ``begin`` snapshots and restores on an error."""

    def __init__(
        self, users: MemoryUserRepository, activity: MemorySecurityActivity | None = None
    ) -> None:
        self.users_repo = users
        self.activity = activity  # where the changes' entries go (none without it)
        self.token_rows: dict[str, tuple[MailToken, datetime | None]] = {}
        self.rows: dict[int, Row] = {}  # by mail id, never reused (as a SQL sequence)
        self.next_id = itertools.count()
        self.breach_mailed: set[int] = set()
        users.held = self.held_for_another

    def held_for_another(self, email: str, now: datetime, user_id: int) -> bool:
        return any(
            token.email == email
            and token.kind is MailKind.RESTORE_EMAIL
            and used is None
            and token.expires_at > now
            and token.user_id != user_id
            and token.user_id in self.users_repo.users  # an erased account's went with it
            for token, used in self.token_rows.values()
        )

    @property
    def tokens(self) -> MailTokens:
        return self

    @property
    def outbox(self) -> Outbox:
        return self

    @property
    def accounts(self) -> AccountEmail:
        return self

    @asynccontextmanager
    async def begin(self) -> AsyncIterator[MailWork]:
        saved = (dict(self.token_rows), copy.deepcopy(self.rows), dict(self.users_repo.users))
        mailed = set(self.breach_mailed)
        told = None if self.activity is None else list(self.activity.entries)
        try:
            yield self
        except BaseException:
            self.token_rows, self.rows, self.users_repo.users = saved
            self.breach_mailed = mailed
            if self.activity is not None and told is not None:
                self.activity.entries = told
            raise

    async def issue(self, token: MailToken) -> None:
        self.token_rows[token.token_hash] = (token, None)

    async def redeem(self, token_hash: str, kind: MailKind, now: datetime) -> int | None:
        token, used = self.token_rows.get(token_hash, (None, None))
        if token is None or used or token.kind is not kind or token.expires_at <= now:
            return None
        if token.user_id not in self.users_repo.users:
            return None
        self.token_rows[token_hash] = (token, now)
        return token.user_id

    async def holder(self, token_hash: str, kind: MailKind, now: datetime) -> Held | None:
        token, used = self.token_rows.get(token_hash, (None, None))
        if token is None or used or token.kind is not kind or token.expires_at <= now:
            return None
        if token.user_id not in self.users_repo.users:
            return None
        return Held(token.user_id, token.expires_at, token.email, token.session_id, token.since)

    async def discard(self, user_id: int, kind: MailKind, now: datetime) -> None:
        for key, (token, used) in list(self.token_rows.items()):
            if token.user_id == user_id and token.kind is kind and used is None:
                self.token_rows[key] = (token, now)

    async def discard_issued_after(self, token_hash: str, kind: MailKind, now: datetime) -> None:
        # A dict keeps the order tokens were issued in.
        this, _ = self.token_rows.get(token_hash, (None, None))
        if this is None:
            return
        later = list(self.token_rows)[list(self.token_rows).index(token_hash) + 1 :]
        for key in later:
            token, used = self.token_rows[key]
            same_mailbox = None not in (token.email, this.email) and token.email == this.email
            if (token.user_id, token.kind, used) == (this.user_id, kind, None) and not same_mailbox:
                self.token_rows[key] = (token, now)

    async def oldest_expiry(self, user_id: int, kind: MailKind, now: datetime) -> datetime | None:
        live = [
            token.expires_at
            for token, used in self.token_rows.values()
            if (token.user_id, token.kind, used) == (user_id, kind, None) and token.expires_at > now
        ]
        return min(live, default=None)

    async def holds(self, email: str, now: datetime, user_id: int) -> bool:
        return self.held_for_another(email, now, user_id)

    async def delete_expired(self, before: datetime, limit: int) -> int:
        expired = [k for k, (t, _) in self.token_rows.items() if t.expires_at < before][:limit]
        for key in expired:
            del self.token_rows[key]
        return len(expired)

    async def enqueue(self, mail: OutgoingMail, due_at: datetime) -> None:
        self.rows[next(self.next_id)] = Row(mail=mail, created_at=due_at, due_at=due_at)

    async def mark_verified(
        self, user_id: int, now: datetime, told: AuditEvent | None = None
    ) -> None:
        user = self.users_repo.users.get(user_id)
        if user is not None and user.email_verified_at is None:
            self.users_repo.users[user_id] = replace(user, email_verified_at=now, updated_at=now)
        await self._tell(told, user_id, now)

    async def set_password(
        self,
        user_id: int,
        password_hash: str | None,
        now: datetime,
        *,
        verified: bool,
        told: AuditEvent | None = None,
    ) -> None:
        user = self.users_repo.users.get(user_id)
        if user is not None:
            self.users_repo.users[user_id] = replace(
                user, password_hash=password_hash, updated_at=now
            )
        self.breach_mailed.discard(user_id)
        await self._tell(told, user_id, now)
        if verified:
            await self.mark_verified(user_id, now)

    async def has_address(self, user_id: int, email: str) -> bool:
        user = self.users_repo.users.get(user_id)
        return user is not None and user.email == email

    async def change_email(
        self, user_id: int, email: str, now: datetime, told: AuditEvent | None = None
    ) -> PreviousAddress | None:
        user = self.users_repo.users.get(user_id)
        if user is None:
            return None
        if any(u.email == email for u in self.users_repo.users.values() if u.id != user_id):
            raise EmailTaken()
        if self.held_for_another(email, now, user_id):
            raise EmailTaken()
        verified_at = user.email_verified_at or now
        self.users_repo.users[user_id] = replace(
            user, email=email, email_verified_at=verified_at, updated_at=now
        )
        await self._tell(told, user_id, now)
        return PreviousAddress(user.email, user.email_verified_at is not None)

    async def replace_password(
        self,
        user_id: int,
        seen: str | None,
        password_hash: str,
        now: datetime,
        told: AuditEvent | None = None,
    ) -> bool:
        user = self.users_repo.users.get(user_id)
        if user is None or user.password_hash != seen:
            return False
        await self.set_password(user_id, password_hash, now, verified=False, told=told)
        return True

    async def _tell(self, told: AuditEvent | None, user_id: int, at: datetime) -> None:
        if self.activity is not None:
            await self.activity.tell(told, user_id, at)

    async def mark_breach_mailed(self, user_id: int, now: datetime) -> bool:
        if user_id in self.breach_mailed or user_id not in self.users_repo.users:
            return False
        self.breach_mailed.add(user_id)
        return True

    async def claim(self, now: datetime, lease: timedelta, limit: int) -> list[QueuedMail]:
        claimed: list[QueuedMail] = []
        for number, row in self.rows.items():
            if len(claimed) == limit:
                break
            pending = row.sent_at is None and row.failed_at is None and row.due_at <= now
            if pending and (row.claimed_until is None or row.claimed_until <= now):
                row.claimed_until, row.attempts = now + lease, row.attempts + 1
                claimed.append(
                    QueuedMail(
                        id=number, mail=row.mail, created_at=row.created_at, attempts=row.attempts
                    )
                )
        return claimed

    async def sent(self, mail_id: int, now: datetime) -> None:
        self.rows[mail_id].sent_at, self.rows[mail_id].claimed_until = now, None

    async def retry(self, mail_id: int, due_at: datetime, error: str) -> None:
        self.rows[mail_id].due_at, self.rows[mail_id].claimed_until = due_at, None

    async def give_up(self, mail_id: int, now: datetime, error: str) -> None:
        self.rows[mail_id].failed_at, self.rows[mail_id].claimed_until = now, None

    async def backlog(self, now: datetime) -> tuple[int, float | None]:
        waiting = [
            r.created_at for r in self.rows.values() if r.sent_at is None and r.failed_at is None
        ]
        oldest = min(waiting, default=None)
        return len(waiting), None if oldest is None else (now - oldest).total_seconds()

    def queued_to(self, recipient: str) -> list[OutgoingMail]:
        return [row.mail for row in self.rows.values() if row.mail.recipient == recipient]

    async def delete_settled(self, before: datetime, limit: int) -> int:
        settled = [
            number
            for number, row in self.rows.items()
            if (row.sent_at is not None and row.sent_at < before)
            or (row.failed_at is not None and row.failed_at < before)
        ][:limit]
        for number in settled:
            del self.rows[number]
        return len(settled)


class RecordingMailer(Mailer):
    def __init__(self) -> None:
        self.delivered: list[OutgoingMail] = []

    async def send(self, mail: OutgoingMail) -> None:
        self.delivered.append(mail)
