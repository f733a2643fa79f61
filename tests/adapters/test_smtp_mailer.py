"""The SMTP mailer against a real SMTP server on loopback (aiosmtpd)."""

from __future__ import annotations

import pytest

from domain.ports import MailDeliveryFailed, OutgoingMail
from infrastructure.mail.smtp import SmtpMailer, SmtpTarget
from tests.servers.smtp import SmtpSink, free_port, html_of, text_of

MAIL = OutgoingMail(
    recipient="ada@example.test",
    subject="Reset your authgate password",
    text="Open https://app.example/reset-password?token=abc\n",
    html='<p><a href="https://app.example/reset-password?token=abc">Reset</a></p>',
)
SENDER = "authgate@example.test"


async def test_a_mail_arrives_with_a_text_and_an_html_part(smtp: SmtpSink) -> None:
    await SmtpMailer(smtp.url, SENDER).send(MAIL)

    [message] = smtp.messages
    assert (message["From"], message["To"], message["Subject"]) == (
        SENDER,
        MAIL.recipient,
        MAIL.subject,
    )
    assert smtp.envelopes == [(SENDER, [MAIL.recipient])]
    assert text_of(message).replace("\r\n", "\n") == MAIL.text
    assert html_of(message).strip() == MAIL.html
    assert message["Message-ID"]
    assert message["Date"]


async def test_a_mail_whose_message_cannot_be_built_fails_for_good(smtp: SmtpSink) -> None:
    """An address stored before encoded-words were refused: the email package will not
    build its headers. Nothing is sent, and retrying would change nothing."""
    poisoned = OutgoingMail(
        recipient="=?utf-8?q?a=0D=0Abcc=3A_x=40evil.com?=@example.com",
        subject="s",
        text="t",
        html="h",
    )

    with pytest.raises(MailDeliveryFailed) as failure:
        await SmtpMailer(smtp.url, SENDER).send(poisoned)

    assert not failure.value.temporary
    assert smtp.messages == []


async def test_a_server_that_is_down_is_a_temporary_failure() -> None:
    mailer = SmtpMailer(f"smtp://127.0.0.1:{free_port()}", SENDER, timeout=2)

    with pytest.raises(MailDeliveryFailed) as failure:
        await mailer.send(MAIL)

    assert failure.value.temporary


@pytest.mark.parametrize(
    ("reply", "temporary"),
    [("451 4.3.0 Try again later", True), ("550 5.1.1 No such user", False)],
)
async def test_a_4xx_answer_is_temporary_and_a_5xx_one_permanent(
    smtp: SmtpSink, reply: str, temporary: bool
) -> None:
    smtp.reply = reply

    with pytest.raises(MailDeliveryFailed) as failure:
        await SmtpMailer(smtp.url, SENDER).send(MAIL)

    assert failure.value.temporary is temporary
    assert failure.value.reason.startswith(f"smtp {reply[:3]}")


async def test_credentials_are_never_sent_without_tls(smtp: SmtpSink) -> None:
    mailer = SmtpMailer(f"smtp://user:secret@127.0.0.1:{smtp.port}", SENDER)

    with pytest.raises(MailDeliveryFailed) as failure:
        await mailer.send(MAIL)

    assert "without TLS" in failure.value.reason
    assert smtp.messages == []


async def test_required_starttls_refuses_a_server_that_does_not_offer_it(smtp: SmtpSink) -> None:
    mailer = SmtpMailer(f"smtp://127.0.0.1:{smtp.port}?starttls=required", SENDER)

    with pytest.raises(MailDeliveryFailed):
        await mailer.send(MAIL)

    assert smtp.messages == []


def test_smtp_urls_pick_ports_tls_and_credentials() -> None:
    plain = SmtpTarget.parse("smtp://mail.example")
    implicit = SmtpTarget.parse("smtps://me%40x:p%3Ass@mail.example")
    required = SmtpTarget.parse("smtp://mail.example:2525?starttls=required")

    assert (plain.port, plain.implicit_tls, plain.starttls_required) == (587, False, False)
    assert (implicit.port, implicit.implicit_tls) == (465, True)
    assert (implicit.username, implicit.password) == ("me@x", "p:ss")
    assert (required.port, required.starttls_required) == (2525, True)
    with pytest.raises(ValueError, match="SMTP URL"):
        SmtpTarget.parse("http://mail.example")
