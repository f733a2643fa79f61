"""The embedded default: no SMTP server, each mail (its link included) goes to the log, so
the quickstart needs nothing installed. Never configure this in production."""

from __future__ import annotations

import logging

from domain.ports import Mailer, OutgoingMail


class LogMailer(Mailer):
    def __init__(self, logger: logging.Logger | None = None) -> None:
        self._logger = logger or logging.getLogger("authgate.mail")

    async def send(self, mail: OutgoingMail) -> None:
        self._logger.info(
            "mail (AUTH_SMTP_URL unset, not sent) to %s: %s\n%s",
            mail.recipient,
            mail.subject,
            mail.text,
        )
