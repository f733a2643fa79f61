"""The mail that tells a user their password is breached: once per password."""

from __future__ import annotations

import logging

from application.client import ClientInfo, audit_event
from application.email.messages import MailPolicy, compose_breach_notice
from domain.entities import User
from domain.errors import StorageUnavailable, cause_of
from domain.ports import AuditLog, Clock, MailUnitOfWork

log = logging.getLogger("authgate.mail")


class BreachNotice:
    def __init__(
        self, *, mail: MailUnitOfWork, policy: MailPolicy, clock: Clock, audit: AuditLog
    ) -> None:
        self._mail = mail
        self._policy = policy
        self._clock = clock
        self._audit = audit

    async def signed_in_with_it(self, user: User, client: ClientInfo) -> None:
        """A sign-in with a breached password succeeded (OWASP ASVS 5.0 V6.2.12): audited,
        and the user mailed unless already told of this password."""
        audit_event(self._audit, "breached_password_signed_in", client, user_id=user.id)
        try:
            await self.send_once(user)
        except StorageUnavailable as e:  # the session is open: the next sign-in tells them
            log.warning("breach notice not queued for user %s: %s", user.id, cause_of(e))

    async def send_once(self, user: User) -> None:
        now = self._clock.now()
        async with self._mail.begin() as work:
            # The mark and the mail in one transaction: told once, and never marked untold.
            if await work.accounts.mark_breach_mailed(user.id, now):
                mail = compose_breach_notice(self._policy, user.email).about(user.id)
                await work.outbox.enqueue(mail, now)
