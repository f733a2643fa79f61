"""Mail tokens, the outbox and the account changes they prove, in one SQL transaction."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from datetime import datetime

from domain.errors import EmailTaken
from domain.ports import (
    AccountEmail,
    AuditEvent,
    Held,
    MailKind,
    MailToken,
    MailTokens,
    MailUnitOfWork,
    MailWork,
    Outbox,
    OutgoingMail,
    PreviousAddress,
    WebhookEvent,
)
from infrastructure.persistence.account_events import record_event
from infrastructure.persistence.database import (
    Database,
    Tx,
    UniqueViolation,
    as_datetime,
    as_optional_datetime,
    skip_locked,
)
from infrastructure.persistence.users import HELD_FOR_ANOTHER


class _Tokens(MailTokens):
    def __init__(self, tx: Tx, skip: str) -> None:
        self._tx = tx
        self._skip_locked = skip

    async def issue(self, token: MailToken) -> None:
        # The next number: greater than that of every token committed before this work
        # (two works at once may share one; nothing orders them anyway). SQLite's write
        # transaction holds the whole database, so there they never do.
        await self._tx.execute(
            "INSERT INTO mail_tokens"
            " (hash, user_id, kind, expires_at, email, session_id, since, seq)"
            " VALUES ($1, $2, $3, $4, $5, $6, $7,"
            " (SELECT COALESCE(MAX(seq), 0) + 1 FROM mail_tokens))",
            token.token_hash,
            token.user_id,
            token.kind.value,
            token.expires_at,
            token.email,
            token.session_id,
            token.since,
        )

    async def redeem(self, token_hash: str, kind: MailKind, now: datetime) -> int | None:
        # One conditional UPDATE: under concurrent redeems exactly one sees the row unused.
        row = await self._tx.fetchone(
            "UPDATE mail_tokens SET used_at = $3 WHERE hash = $1 AND kind = $2"
            " AND used_at IS NULL AND expires_at > $3 RETURNING user_id",
            token_hash,
            kind.value,
            now,
        )
        return None if row is None else int(row["user_id"])

    async def holder(self, token_hash: str, kind: MailKind, now: datetime) -> Held | None:
        row = await self._tx.fetchone(
            "SELECT user_id, expires_at, email, session_id, since FROM mail_tokens"
            " WHERE hash = $1 AND kind = $2"
            " AND used_at IS NULL AND expires_at > $3",
            token_hash,
            kind.value,
            now,
        )
        if row is None:
            return None
        return Held(
            int(row["user_id"]),
            as_datetime(row["expires_at"]),
            row["email"],
            row["session_id"],
            as_optional_datetime(row["since"]),
        )

    async def discard(self, user_id: int, kind: MailKind, now: datetime) -> None:
        await self._tx.execute(
            "UPDATE mail_tokens SET used_at = $3 WHERE user_id = $1 AND kind = $2"
            " AND used_at IS NULL",
            user_id,
            kind.value,
            now,
        )
        # Housekeeping: tokens past their expiry are worth nothing.
        await self._tx.execute("DELETE FROM mail_tokens WHERE expires_at <= $1", now)

    async def discard_issued_after(self, token_hash: str, kind: MailKind, now: datetime) -> None:
        await self._tx.execute(
            "UPDATE mail_tokens SET used_at = $3 FROM"
            " (SELECT user_id, seq, email FROM mail_tokens WHERE hash = $1) AS this"
            " WHERE mail_tokens.user_id = this.user_id AND mail_tokens.kind = $2"
            " AND mail_tokens.used_at IS NULL AND mail_tokens.seq > this.seq"
            " AND (mail_tokens.email IS NULL OR this.email IS NULL"
            " OR mail_tokens.email <> this.email)",
            token_hash,
            kind.value,
            now,
        )

    async def oldest_expiry(self, user_id: int, kind: MailKind, now: datetime) -> datetime | None:
        row = await self._tx.fetchone(
            "SELECT MIN(expires_at) AS oldest FROM mail_tokens WHERE user_id = $1"
            " AND kind = $2 AND used_at IS NULL AND expires_at > $3",
            user_id,
            kind.value,
            now,
        )
        return None if row is None else as_optional_datetime(row["oldest"])

    async def holds(self, email: str, now: datetime, user_id: int) -> bool:
        return await self._tx.fetchone(HELD_FOR_ANOTHER, email, now, user_id) is not None

    async def delete_expired(self, before: datetime, limit: int) -> int:
        return await self._tx.execute(
            "DELETE FROM mail_tokens WHERE hash IN (SELECT hash FROM mail_tokens"
            f" WHERE expires_at < $1 ORDER BY expires_at LIMIT $2{self._skip_locked})",
            before,
            limit,
        )


class _Outbox(Outbox):
    def __init__(self, tx: Tx) -> None:
        self._tx = tx

    async def enqueue(self, mail: OutgoingMail, due_at: datetime) -> None:
        await enqueue(self._tx, mail, due_at)


async def enqueue(tx: Tx, mail: OutgoingMail, due_at: datetime) -> None:
    """A mail into the outbox, in the caller's transaction."""
    await tx.execute(
        "INSERT INTO outbox (recipient, subject, text, html, created_at, due_at, user_id)"
        " VALUES ($1, $2, $3, $4, $5, $5, $6)",
        mail.recipient,
        mail.subject,
        mail.text,
        mail.html,
        due_at,
        mail.user_id,
    )


class _Accounts(AccountEmail):
    def __init__(self, tx: Tx, for_update: str) -> None:
        self._tx = tx
        self._for_update = for_update
        self.changed: set[int] = set()

    async def has_address(self, user_id: int, email: str) -> bool:
        # The row locked (PostgreSQL; SQLite's write transaction holds the whole database):
        # an address change waits until this work has written what it does with it.
        row = await self._tx.fetchone(
            f"SELECT 1 FROM users WHERE id = $1 AND email = $2{self._for_update}", user_id, email
        )
        return row is not None

    async def mark_verified(
        self, user_id: int, now: datetime, told: AuditEvent | None = None
    ) -> None:
        self.changed.add(user_id)
        changed = await self._tx.execute(
            "UPDATE users SET email_verified_at = $2, updated_at = $2"
            " WHERE id = $1 AND email_verified_at IS NULL",
            user_id,
            now,
        )
        webhook = WebhookEvent.USER_VERIFIED if changed else None
        await record_event(self._tx, webhook, user_id, now, told=told)

    async def set_password(
        self,
        user_id: int,
        password_hash: str | None,
        now: datetime,
        *,
        verified: bool,
        told: AuditEvent | None = None,
    ) -> None:
        await self._tx.execute(
            "UPDATE users SET password_hash = $2, updated_at = $3, breach_mailed_at = NULL"
            " WHERE id = $1",
            user_id,
            password_hash,
            now,
        )
        self.changed.add(user_id)
        await record_event(self._tx, WebhookEvent.PASSWORD_CHANGED, user_id, now, told=told)
        if verified:
            await self.mark_verified(user_id, now)

    async def change_email(
        self, user_id: int, email: str, now: datetime, told: AuditEvent | None = None
    ) -> PreviousAddress | None:
        row = await self._tx.fetchone(
            "SELECT email, email_verified_at FROM users WHERE id = $1", user_id
        )
        if row is None:
            return None
        if await self._tx.fetchone(HELD_FOR_ANOTHER, email, now, user_id) is not None:
            raise EmailTaken()
        try:
            await self._tx.execute(
                "UPDATE users SET email = $2, updated_at = $3,"
                " email_verified_at = COALESCE(email_verified_at, $3) WHERE id = $1",
                user_id,
                email,
                now,
            )
        except UniqueViolation as e:
            raise EmailTaken() from e
        self.changed.add(user_id)
        previous = PreviousAddress(str(row["email"]), row["email_verified_at"] is not None)
        await record_event(
            self._tx,
            WebhookEvent.USER_UPDATED,
            user_id,
            now,
            told=told,
            email=email,
            previous_email=previous.email,
        )
        return previous

    async def replace_password(
        self,
        user_id: int,
        seen: str | None,
        password_hash: str,
        now: datetime,
        told: AuditEvent | None = None,
    ) -> bool:
        # One conditional UPDATE: whoever changed the password first wins.
        seen_it = "password_hash IS NULL" if seen is None else "password_hash = $4"
        row = await self._tx.fetchone(
            "UPDATE users SET password_hash = $2, updated_at = $3, breach_mailed_at = NULL"
            f" WHERE id = $1 AND {seen_it} RETURNING id",
            user_id,
            password_hash,
            now,
            *([] if seen is None else [seen]),
        )
        if row is None:
            return False
        self.changed.add(user_id)
        await record_event(self._tx, WebhookEvent.PASSWORD_CHANGED, user_id, now, told=told)
        return True

    async def mark_breach_mailed(self, user_id: int, now: datetime) -> bool:
        # One conditional UPDATE: of concurrent sign-ins exactly one sees it unmarked.
        row = await self._tx.fetchone(
            "UPDATE users SET breach_mailed_at = $2 WHERE id = $1 AND breach_mailed_at IS NULL"
            " RETURNING id",
            user_id,
            now,
        )
        return row is not None


class _Work(MailWork):
    def __init__(self, tx: Tx, skip: str, for_update: str) -> None:
        self._tokens = _Tokens(tx, skip)
        self._outbox = _Outbox(tx)
        self._accounts = _Accounts(tx, for_update)

    @property
    def tokens(self) -> MailTokens:
        return self._tokens

    @property
    def outbox(self) -> Outbox:
        return self._outbox

    @property
    def accounts(self) -> AccountEmail:
        return self._accounts

    @property
    def changed_users(self) -> set[int]:
        return self._accounts.changed


class SqlMailUnitOfWork(MailUnitOfWork):
    """``changed``, when given, hears of each user this work changed once it committed (a
    profile cache forgets them then: before the commit a read could cache the old row)."""

    def __init__(self, database: Database, changed: Callable[[int], None] | None = None) -> None:
        self._db = database
        self._changed = changed
        self._skip_locked = skip_locked(database)

    @asynccontextmanager
    async def begin(self) -> AsyncIterator[MailWork]:
        async with self._db.transaction() as tx:
            work = _Work(tx, self._skip_locked, self._db.for_update)
            yield work
        if self._changed is not None:
            for user_id in work.changed_users:
                self._changed(user_id)
