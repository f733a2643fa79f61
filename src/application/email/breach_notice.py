"""The mail that tells a user their password is breached: once per password."""

from __future__ import annotations

from application.email.messages import MailPolicy, compose_breach_notice
from domain.entities import User
from domain.ports import Clock, MailUnitOfWork


class BreachNotice:
    def __init__(self, *, mail: MailUnitOfWork, policy: MailPolicy, clock: Clock) -> None:
        self._mail = mail
        self._policy = policy
        self._clock = clock

    async def send_once(self, user: User) -> None:
        now = self._clock.now()
        async with self._mail.begin() as work:
            # The mark and the mail in one transaction: told once, and never marked untold.
            if await work.accounts.mark_breach_mailed(user.id, now):
                await work.outbox.enqueue(compose_breach_notice(self._policy, user.email), now)
