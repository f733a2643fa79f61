"""Mail: the mailer chosen by AUTH_SMTP_URL, the policies from the settings, and the sender
task that runs for as long as the app does."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import timedelta

from application.email.messages import MailPolicy
from application.email.sender import DeliveryPolicy, OutboxSender
from domain.ports import Mailer
from infrastructure.config import Settings
from infrastructure.mail.log_mailer import LogMailer
from infrastructure.mail.smtp import SmtpMailer
from interfaces.http.background import in_background


def mailer(settings: Settings) -> Mailer:
    if settings.smtp_url is None:
        return LogMailer()  # each mail's log line says it was not sent, and why
    return SmtpMailer(settings.smtp_url, settings.mail_from)


def mail_policy(settings: Settings) -> MailPolicy:
    return MailPolicy(
        product=settings.product_name,
        verify_url=settings.verify_email_url or settings.mail_link("verify-email"),
        reset_url=settings.reset_password_url or settings.mail_link("reset-password"),
        require_verified=settings.require_verified_email,
    )


def delivery_policy(settings: Settings) -> DeliveryPolicy:
    return DeliveryPolicy(
        give_up_after=timedelta(seconds=settings.outbox_give_up_after),
        poll_interval=settings.outbox_poll_interval,
    )


@asynccontextmanager
async def running(sender: OutboxSender) -> AsyncIterator[asyncio.Task[None]]:
    """The sender loop as a task of the lifespan. At shutdown it finishes the mail in hand
    (or is cancelled after a grace: the claim's lease brings that mail back), before the
    database closes."""
    async with in_background(sender.run, "authgate-outbox-sender") as task:
        yield task
