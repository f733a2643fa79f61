"""Mail: single-use tokens, the durable outbox, and the mailer that delivers one message.

A token and the mail that carries it are written in one unit of work (one database
transaction), so a mail never announces a token that was not stored, and a stored token
always has its mail queued.
"""

from __future__ import annotations

import dataclasses
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Protocol

from domain.ports.audit import AuditEvent


class MailKind(StrEnum):
    VERIFY_EMAIL = "verify_email"
    RESET_PASSWORD = "reset_password"
    SECURE_ACCOUNT = "secure_account"  # "this wasn't me", in a new-device notice
    CHANGE_EMAIL = "change_email"  # mailed to the new address of an email change
    # "This wasn't me" in the notice of an email change, to the old address: it also gives
    # the address back, and the address is kept for it meanwhile.
    RESTORE_EMAIL = "restore_email"


@dataclass(frozen=True, slots=True, kw_only=True)
class MailToken:
    token_hash: str  # SHA-256 of the token; the token itself is never stored
    user_id: int
    kind: MailKind
    expires_at: datetime
    # The address it went to, where that matters: an email change's new one; the old one
    # for the change's "this wasn't me" (it gives it back); a new-device notice's (the reset
    # its "this wasn't me" sends goes there, whatever the account's address is by then).
    email: str | None = None
    session_id: str | None = None  # the session that asked for it, if it dies with it
    # The sign-in a "this wasn't me" reaches back to, when not its own issue (an email
    # change's: the asking session's start).
    since: datetime | None = None


@dataclass(frozen=True, slots=True)
class Held:
    """A live token's user, its expiry (its issue, less the kind's lifetime), and the
    address, session and sign-in it carries, if any."""

    user_id: int
    expires_at: datetime
    email: str | None = None
    session_id: str | None = None
    since: datetime | None = None


@dataclass(frozen=True, slots=True)
class PreviousAddress:
    email: str
    verified: bool


@dataclass(frozen=True, slots=True, kw_only=True)
class OutgoingMail:
    recipient: str
    subject: str
    text: str
    html: str
    # The account it is about, if any: the account's export lists its mails by it, at
    # whatever address they went (an email change moves the account, not its history).
    user_id: int | None = None

    def about(self, user_id: int) -> OutgoingMail:
        return dataclasses.replace(self, user_id=user_id)


@dataclass(frozen=True, slots=True, kw_only=True)
class QueuedMail:
    id: int
    mail: OutgoingMail
    created_at: datetime
    attempts: int  # claims so far, this one included


class MailDeliveryFailed(Exception):
    """The mailer could not deliver; ``temporary`` failures are retried later."""

    def __init__(self, reason: str, *, temporary: bool) -> None:
        super().__init__(reason)
        self.reason = reason
        self.temporary = temporary


class MailTokens(Protocol):
    async def issue(self, token: MailToken) -> None: ...

    async def redeem(self, token_hash: str, kind: MailKind, now: datetime) -> int | None:
        """Mark a live token of ``kind`` used and return its user; None when it is unknown,
        of another kind, expired or used. Exactly one of concurrent redeems wins."""
        ...

    async def holder(self, token_hash: str, kind: MailKind, now: datetime) -> Held | None:
        """The user a live token of ``kind`` names, and when it expires, the token left
        unspent; None as for ``redeem``."""
        ...

    async def discard(self, user_id: int, kind: MailKind, now: datetime) -> None:
        """Every still-usable token of the user and kind dies."""
        ...

    async def discard_issued_after(self, token_hash: str, kind: MailKind, now: datetime) -> None:
        """Every still-usable token of ``kind`` of the user ``token_hash``'s names, issued
        after it, dies: after in the order the store issued them, never by a clock (workers'
        clocks differ). Those mailed to the same address as ``token_hash`` stay: the mailbox
        that used it keeps its own."""
        ...

    async def oldest_expiry(self, user_id: int, kind: MailKind, now: datetime) -> datetime | None:
        """When the user's first still-usable token of ``kind`` expires (of one lifetime:
        the oldest one's); None when there is none."""
        ...

    async def holds(self, email: str, now: datetime, user_id: int) -> bool:
        """Whether a live way back of an email change (``RESTORE_EMAIL``) of another user
        than ``user_id`` keeps this address."""
        ...

    async def delete_expired(self, before: datetime, limit: int) -> int:
        """Delete at most ``limit`` tokens (used or not) that expired before ``before``."""
        ...


class Outbox(Protocol):
    async def enqueue(self, mail: OutgoingMail, due_at: datetime) -> None: ...


class AccountEmail(Protocol):
    """What mail tokens prove changes on the account, in the same unit of work. ``told``:
    the audit event of the change; its row in the account's activity is written in the
    unit of work's transaction."""

    async def mark_verified(self, user_id: int, now: datetime, told: AuditEvent | None) -> None: ...

    async def has_address(self, user_id: int, email: str) -> bool:
        """Whether the account has this address now, true until the unit of work ends: a
        change of the address waits for it (or was made before and is seen)."""
        ...

    async def set_password(
        self,
        user_id: int,
        password_hash: str | None,
        now: datetime,
        *,
        verified: bool,
        told: AuditEvent | None,
    ) -> None:
        """Replace (or with None remove) the password; ``verified`` marks the email too.
        A new password is one nobody was warned about yet (``mark_breach_mailed``)."""
        ...

    async def replace_password(
        self,
        user_id: int,
        seen: str | None,
        password_hash: str,
        now: datetime,
        told: AuditEvent | None,
    ) -> bool:
        """Write this password only over ``seen``, the hash the caller saw (None: the
        account had none, a first password); False, writing nothing, when it is not that any
        more (a reset or "this wasn't me" meanwhile, a concurrent first password: of
        concurrent callers exactly one gets True)."""
        ...

    async def change_email(
        self, user_id: int, email: str, now: datetime, told: AuditEvent | None
    ) -> PreviousAddress | None:
        """Give the account this address, proven by the mail just redeemed (verified from
        now if it was not yet); the address it had and whether that was verified, or None
        when the account is gone. Raises ``EmailTaken`` when another account has the
        address or a live way back of another account keeps it, writing nothing."""
        ...

    async def mark_breach_mailed(self, user_id: int, now: datetime) -> bool:
        """Note that the user was told their password is breached; False when already told
        about this password (of concurrent callers, exactly one gets True)."""
        ...


class MailWork(Protocol):
    @property
    def tokens(self) -> MailTokens: ...

    @property
    def outbox(self) -> Outbox: ...

    @property
    def accounts(self) -> AccountEmail: ...


class MailUnitOfWork(Protocol):
    def begin(self) -> AbstractAsyncContextManager[MailWork]:
        """One transaction: committed when the block ends, rolled back if it raises."""
        ...


class OutboxDelivery(Protocol):
    """The sender's side of the outbox. Claims are leases: a claimed mail that is neither
    sent nor released comes back when its lease ends (a crashed sender loses nothing)."""

    async def claim(self, now: datetime, lease: timedelta, limit: int) -> list[QueuedMail]:
        """Due, unclaimed (or lease-expired) mails, oldest first; no two callers get one."""
        ...

    async def sent(self, mail_id: int, now: datetime) -> None: ...

    async def retry(self, mail_id: int, due_at: datetime, error: str) -> None: ...

    async def give_up(self, mail_id: int, now: datetime, error: str) -> None: ...

    async def backlog(self, now: datetime) -> tuple[int, float | None]:
        """How many mails wait (not sent, not given up), and the oldest one's age in seconds
        (None when none waits)."""
        ...

    async def delete_settled(self, before: datetime, limit: int) -> int:
        """Delete at most ``limit`` mails sent or given up before ``before``; how many."""
        ...


class Mailer(Protocol):
    async def send(self, mail: OutgoingMail) -> None:
        """Deliver one message or raise ``MailDeliveryFailed``."""
        ...
