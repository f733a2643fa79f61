"""Queues a mail and the token it carries, in one unit of work (the transactional outbox)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta

from application.email.messages import MailPolicy, compose
from application.email.notices import (
    Notice,
    compose_factor_added,
    compose_farewell,
    compose_notice,
)
from application.email.tokens import digest, new_token
from domain.entities import User
from domain.ports import Clock, MailKind, MailToken, MailUnitOfWork, MailWork, OutgoingMail

LEAST_LIFE = timedelta(days=1)  # of a factor-added notice's "this wasn't me" link


class MailQueue:
    def __init__(self, *, mail: MailUnitOfWork, policy: MailPolicy, clock: Clock) -> None:
        self._mail = mail
        self._policy = policy
        self._clock = clock

    async def send(self, user: User, kind: MailKind) -> bool:
        """Mails a link of ``kind`` to the account's address, if it still has the one read
        into ``user``: a link mailed to an address changed meanwhile would outlive the
        change (which ends the links there) and act on the account from a mailbox that is
        no longer its own. False when nothing was mailed."""
        async with self._mail.begin() as work:
            if not await work.accounts.has_address(user.id, user.email):
                return False
            await self.send_in(work, user, kind)
        return True

    async def send_in(self, work: MailWork, user: User, kind: MailKind) -> None:
        """``send`` in the caller's own unit of work: the mail goes with its change or not
        at all."""
        token, now = new_token(), self._clock.now()
        mail = compose(self._policy, kind, user.email, token).about(user.id)
        await work.tokens.issue(
            MailToken(
                token_hash=digest(token),
                user_id=user.id,
                kind=kind,
                expires_at=now + self._policy.ttl(kind),
            )
        )
        # Never sent here: the request path only writes; the sender delivers.
        await work.outbox.enqueue(mail, due_at=now)

    def notice(self, user: User, notice: Notice) -> OutgoingMail:
        """A notice to enqueue in the caller's own unit of work."""
        return compose_notice(self._policy.product, notice, user.email).about(user.id)

    def farewell(self, user: User) -> OutgoingMail:
        """The last mail of a deleted account, queued in the erasure's own transaction."""
        return compose_farewell(self._policy.product, user.email).about(user.id)

    async def notify(self, user: User, notice: Notice) -> None:
        await self.enqueue(self.notice(user, notice))

    async def factor_added(self, user: User, notice: Notice, added_at: datetime) -> None:
        """The notice of a factor added at ``added_at``, with a "this wasn't me" link that
        reaches back to it: it removes that factor, and while it lives any notice's link
        reaches back to it (an intruder's sign-in with a passkey planted before it is
        reported by a notice that must undo the passkey too)."""

        def compose(token: str, lifetime: timedelta) -> OutgoingMail:
            link = self._policy.link(MailKind.SECURE_ACCOUNT, token)
            return compose_factor_added(self._policy.product, notice, user.email, link, lifetime)

        await self.with_way_out(user, added_at, compose)

    async def with_way_out(
        self, user: User, since: datetime, compose: Callable[[str, timedelta], OutgoingMail]
    ) -> bool:
        """A notice carrying a "this wasn't me" link (``SECURE_ACCOUNT``, undone from
        ``since``: ``application.devices.secure``), ``compose``d from its token and the
        time it lives; False when nothing was queued. Only to the address the account still
        has: one that moved since it was read (a way back took the account from an
        intruder's address) would hand the intruder a link that gives it back to them."""
        token, kind, now = new_token(), MailKind.SECURE_ACCOUNT, self._clock.now()
        ttl = self._policy.ttl(kind)
        # Issued as of ``since``; one reaching far back (an app set up long before its
        # first code) would be dead on arrival: it lives a day at least.
        expires_at = max(since + ttl, now + LEAST_LIFE)
        lifetime = ttl if expires_at == since + ttl else LEAST_LIFE
        async with self._mail.begin() as work:
            if not await work.accounts.has_address(user.id, user.email):
                return False
            await work.tokens.issue(
                MailToken(
                    token_hash=digest(token),
                    user_id=user.id,
                    kind=kind,
                    expires_at=expires_at,
                    # Where the reset of its "this wasn't me" goes, and the address it gives
                    # back should the account have moved: only a proven one. A mistyped,
                    # never-verified address is a stranger's mailbox.
                    email=user.email if user.email_verified else None,
                    since=since,
                )
            )
            await work.outbox.enqueue(compose(token, lifetime).about(user.id), due_at=now)
        return True

    async def enqueue(self, mail: OutgoingMail) -> None:
        async with self._mail.begin() as work:
            await work.outbox.enqueue(mail, due_at=self._clock.now())
