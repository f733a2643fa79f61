"""Without AUTH_SMTP_URL mails go to the log: the embedded default for a laptop. On
PostgreSQL (likely production) the service says so at start, since reset links and sign-in
codes in a log are secrets in the wrong place."""

from __future__ import annotations

import logging

import pytest

from infrastructure.config import load_settings
from infrastructure.mail.log_mailer import LogMailer
from interfaces.bootstrap.adapters import mailer_for


def test_mails_to_the_log_on_postgresql_are_warned_about(caplog: pytest.LogCaptureFixture) -> None:
    settings = load_settings({"AUTH_DATABASE_URL": "postgresql://a@db/x"}, dotenv=None)

    with caplog.at_level(logging.WARNING, logger="authgate"):
        mailer = mailer_for(settings)

    assert isinstance(mailer, LogMailer)
    assert any("AUTH_SMTP_URL is unset" in r.getMessage() for r in caplog.records)


def test_the_embedded_default_mails_to_the_log_without_a_warning(
    caplog: pytest.LogCaptureFixture,
) -> None:
    settings = load_settings({"AUTH_DATABASE_URL": "sqlite:///./data/x.db"}, dotenv=None)

    with caplog.at_level(logging.WARNING, logger="authgate"):
        mailer_for(settings)

    assert not [r for r in caplog.records if "AUTH_SMTP_URL" in r.getMessage()]
