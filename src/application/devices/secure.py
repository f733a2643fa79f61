""" "This wasn't me": the link of a new-device notice ends every session, removes the second
factors added since that sign-in (a factor-added notice's link: since that factor), forgets
the devices first seen since (the intruder's next sign-in from theirs mails the owner again)
and blocks the password until a reset (OWASP ASVS 5.0 V6.3.7, V7.4.5: the user can end every
session; V6.4.3: no attacker's authenticator stays). The same link in the notice of an email
change, mailed to the old address, also gives that address back
(``application.email.address``)."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from datetime import datetime

from application.client import ClientInfo, audit_event, change_event
from application.compensation import quietly
from application.email.address import taken_for
from application.email.messages import MailPolicy, masked, outgoing
from application.email.notices import Notice
from application.email.queue import MailQueue
from application.email.tokens import TOKEN_MAX, digest
from application.mfa.planted import FactorRemoval
from application.revocation import SessionRevoker
from domain.entities import User
from domain.errors import InvalidSecureToken
from domain.ports import (
    AuditEvent,
    AuditLog,
    Clock,
    Held,
    KnownDevices,
    MailKind,
    MailUnitOfWork,
    OutgoingMail,
    UserRepository,
)

_NOTICE = MailKind.SECURE_ACCOUNT
_DIE_WITH_IT = (
    MailKind.SECURE_ACCOUNT,
    MailKind.RESET_PASSWORD,
    MailKind.VERIFY_EMAIL,
    MailKind.CHANGE_EMAIL,
)


@dataclass(frozen=True, slots=True, kw_only=True)
class SecureAccountCommand:
    token: str
    client: ClientInfo


class SecureAccount:
    def __init__(
        self,
        *,
        mail: MailUnitOfWork,
        users: UserRepository,
        factors: FactorRemoval,
        devices: KnownDevices,
        revoker: SessionRevoker,
        queue: MailQueue,
        policy: MailPolicy,
        clock: Clock,
        audit: AuditLog,
    ) -> None:
        self._factors = factors
        self._devices = devices
        self._ttl = policy.ttl(MailKind.SECURE_ACCOUNT)  # a link is made this long before it dies
        self._product = policy.product
        self._mail = mail
        self._users = users
        self._revoker = revoker
        self._queue = queue
        self._clock = clock
        self._audit = audit

    async def execute(self, command: SecureAccountCommand) -> None:
        if not command.token or len(command.token) > TOKEN_MAX:
            raise InvalidSecureToken()
        token_hash, now = digest(command.token), self._clock.now()
        async with self._mail.begin() as work:
            kind = MailKind.SECURE_ACCOUNT
            held = await work.tokens.holder(token_hash, kind, now)
            if held is None:
                kind = MailKind.RESTORE_EMAIL
                held = await work.tokens.holder(token_hash, kind, now)
            oldest = None
            if held is not None:
                oldest = await work.tokens.oldest_expiry(held.user_id, _NOTICE, now)
        if held is None:
            raise InvalidSecureToken()
        user_id = held.user_id
        # Every session ends, and every factor added since, before the link is spent:
        # should a backend fail on the way, nothing is half-done that the owner cannot
        # finish by clicking again (the link still works), and no intruder's session or
        # passkey outlives a spent link.
        await self._revoker.revoke_all(user_id, None, command.client, reason="account_secured")
        since = self._since(held, oldest)
        user = await self._users.get(user_id)
        if user is not None:
            await self._remove_factors_since(user, since, command.client)
            await self._unlink_identities_since(user, since, command.client)
        await self._devices.forget_since(user_id, since)
        secured = change_event("account_secured", command.client, user_id=user_id)
        # A link mailed to an address the account no longer has was its owner's before the
        # change: the address comes back (the change's own way back, or a notice of a
        # sign-in from before it).
        gives_back = held.email if user is not None and held.email != user.email else None
        restored = await self._restorable(user, gives_back, command.client)
        async with self._mail.begin() as work:
            if await work.tokens.redeem(token_hash, kind, now) is None:
                raise InvalidSecureToken()  # spent meanwhile: that click does the rest
            # Whoever signed in knew the password: it stops working at once. The owner
            # sets a new one through the reset mail, queued with the change.
            await work.accounts.set_password(user_id, None, now, verified=False, told=secured)
            # Every link that could still change the account dies: other notices' (their
            # work is done), and reset, verification and address-change links, one of which
            # may sit in the intruder's mailbox (a reset asked at the address they moved the
            # account to). So do the ways back of changes made after this link's: the
            # intruder's own (a change from their address to another of theirs). A way back
            # from before stays: the intruder's click must not take the owner's; so does a
            # later one to this link's own mailbox (a notice clicked before the change's way
            # back, which reaches further back).
            for dead in _DIE_WITH_IT:
                await work.tokens.discard(user_id, dead, now)
            await work.tokens.discard_issued_after(token_hash, MailKind.RESTORE_EMAIL, now)
            if restored is not None and gives_back is not None and user is not None:
                await work.accounts.change_email(user_id, gives_back, now, restored)
                # The address replaced hears of it: an owner who moved away from a mailbox
                # someone else now reads learns who took the account back.
                replaced = compose_address_given_back(self._product, user.email, gives_back)
                replaced = replaced.about(user_id)
                await work.outbox.enqueue(replaced, due_at=now)
            if user is not None:
                # The reset goes to the mailbox that clicked, whatever the account's
                # address is by now (an older notice's token carries none).
                to = held.email or user.email
                await self._queue.send_in(
                    work, dataclasses.replace(user, email=to), MailKind.RESET_PASSWORD
                )
        self._audit.record(secured)
        if restored is not None:
            self._audit.record(restored)
        # A sign-in with the password between the first end and its blocking: ended too.
        await quietly(
            self._revoker.revoke_all(user_id, None, command.client, reason="account_secured")
        )

    def _since(self, held: Held, oldest: datetime | None) -> datetime:
        """How far back this link undoes (a new-device notice's: its own sign-in, one
        lifetime before it dies; an email change's: a week before the change, or an older
        session then live), or an earlier sign-in or factor another live notice reports:
        whoever signed in then, or added that factor, may have planted the factor a later
        session signed in with."""
        since = held.since or held.expires_at - self._ttl
        return since if oldest is None else min(since, oldest - self._ttl)

    async def _restorable(
        self, user: User | None, email: str | None, client: ClientInfo
    ) -> AuditEvent | None:
        """The event of the old address coming back, if it can: neither another account's
        (an operator's import can make one with it) nor kept for another's way back."""
        if user is None or email is None:
            return None
        if await taken_for(user.id, email, self._clock.now(), users=self._users, mail=self._mail):
            # The account keeps the address it has; the reset still goes to the old one,
            # whose owner clicked.
            audit_event(
                self._audit, "email_restore_failed", client, user_id=user.id, reason="email_taken"
            )
            return None
        return change_event("email_restored", client, user_id=user.id)

    async def _unlink_identities_since(
        self, user: User, since: datetime, client: ClientInfo
    ) -> None:
        """A provider account linked since (by its verified email, the address the intruder
        moved the account to) would sign them in again."""
        unlinked = change_event(
            "identity_unlinked", client, user_id=user.id, reason="account_secured"
        )
        if await self._users.unlink_identities_since(user.id, since, self._clock.now(), unlinked):
            self._audit.record(unlinked)

    async def _remove_factors_since(self, user: User, since: datetime, client: ClientInfo) -> None:
        """Whoever signed in at ``since`` (the notice's link was made with that sign-in) had a
        fresh authentication: enough to add a passkey or an app, which would sign them in
        again after every session ended. The owner adds back any of their own."""

        def added_since(enrolled_at: datetime, at_sign_up: bool) -> bool:
            return enrolled_at >= since

        if await self._factors.remove(user, client, "account_secured", added_since):
            await self._queue.notify(user, Notice.RECENT_FACTORS_REMOVED)


def compose_address_given_back(product: str, recipient: str, old: str) -> OutgoingMail:
    subject = f"Your account's address was given back — {product}"
    paragraphs = [
        f"The {product} account for {recipient} was given back its earlier address,"
        f" {masked(old)}, with the link mailed there when the address changed. Every"
        " session ended and the password was blocked; the reset link went to that address.",
        "If that was you, there is nothing to do here.",
        f"If it was not, whoever reads {masked(old)} now has the account: contact us.",
    ]
    return outgoing(recipient, subject, paragraphs, product)
