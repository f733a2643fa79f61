"""The SMTP mailer's TLS paths against real TLS SMTP servers on loopback (aiosmtpd), with a
self-signed certificate made for the test and a client context that trusts exactly it."""

from __future__ import annotations

import ssl
from collections.abc import Iterator
from pathlib import Path

import pytest

from domain.ports import MailDeliveryFailed, OutgoingMail
from infrastructure.mail.smtp import SmtpMailer
from tests.servers.certificate import SelfSignedCertificate
from tests.servers.smtp_tls import Mode, TlsSmtpSink

MAIL = OutgoingMail(
    recipient="ada@example.test",
    subject="Reset your authgate password",
    text="Open https://app.example/reset-password?token=abc\n",
    html='<p><a href="https://app.example/reset-password?token=abc">Reset</a></p>',
)
SENDER = "authgate@example.test"
TIMEOUT = 5.0
CREDENTIALS = ("mailer", "s3cret:pass")
USERINFO = "mailer:s3cret%3Apass"


@pytest.fixture
def certificate(tmp_path: Path) -> SelfSignedCertificate:
    return SelfSignedCertificate.write(tmp_path)


@pytest.fixture
def trusting(certificate: SelfSignedCertificate) -> ssl.SSLContext:
    return certificate.client_context()


def serve(
    certificate: SelfSignedCertificate, mode: Mode, *, credentials: tuple[str, str] | None = None
) -> Iterator[TlsSmtpSink]:
    with TlsSmtpSink(certificate, mode, credentials) as sink:
        yield sink


@pytest.fixture
def starttls(certificate: SelfSignedCertificate) -> Iterator[TlsSmtpSink]:
    yield from serve(certificate, "starttls")


@pytest.fixture
def implicit(certificate: SelfSignedCertificate) -> Iterator[TlsSmtpSink]:
    yield from serve(certificate, "implicit")


@pytest.fixture
def starttls_with_auth(certificate: SelfSignedCertificate) -> Iterator[TlsSmtpSink]:
    yield from serve(certificate, "starttls", credentials=CREDENTIALS)


@pytest.fixture
def plain_with_auth(certificate: SelfSignedCertificate) -> Iterator[TlsSmtpSink]:
    yield from serve(certificate, "plain", credentials=CREDENTIALS)


def mailer(url: str, context: ssl.SSLContext | None) -> SmtpMailer:
    return SmtpMailer(url, SENDER, timeout=TIMEOUT, tls_context=context)


async def test_smtp_upgrades_with_starttls_when_the_server_offers_it(
    starttls: TlsSmtpSink, trusting: ssl.SSLContext
) -> None:
    await mailer(starttls.url(), trusting).send(MAIL)

    [delivery] = starttls.deliveries
    assert (delivery.mail_from, delivery.rcpt_tos) == (SENDER, [MAIL.recipient])
    assert delivery.tls_version in ("TLSv1.2", "TLSv1.3")


async def test_required_starttls_delivers_over_tls(
    starttls: TlsSmtpSink, trusting: ssl.SSLContext
) -> None:
    await mailer(starttls.url(query="starttls=required"), trusting).send(MAIL)

    [delivery] = starttls.deliveries
    assert delivery.tls_version is not None


async def test_required_starttls_refuses_a_server_without_it_and_delivers_nothing(
    certificate: SelfSignedCertificate, trusting: ssl.SSLContext
) -> None:
    with TlsSmtpSink(certificate, "plain") as plain:
        with pytest.raises(MailDeliveryFailed) as failure:
            await mailer(plain.url(query="starttls=required"), trusting).send(MAIL)

        assert plain.deliveries == []
    # The server's EHLO lacks STARTTLS: no SMTP reply code, so "unreachable", retried later.
    assert failure.value.temporary
    assert "STARTTLS" in failure.value.reason


async def test_smtps_delivers_over_implicit_tls(
    implicit: TlsSmtpSink, trusting: ssl.SSLContext
) -> None:
    await mailer(implicit.url(scheme="smtps"), trusting).send(MAIL)

    [delivery] = implicit.deliveries
    assert (delivery.mail_from, delivery.rcpt_tos) == (SENDER, [MAIL.recipient])
    assert delivery.tls_version in ("TLSv1.2", "TLSv1.3")


async def test_credentials_authenticate_after_starttls(
    starttls_with_auth: TlsSmtpSink, trusting: ssl.SSLContext
) -> None:
    await mailer(starttls_with_auth.url(userinfo=USERINFO), trusting).send(MAIL)

    [delivery] = starttls_with_auth.deliveries
    assert delivery.tls_version is not None
    assert delivery.authenticated_as == "mailer"


async def test_wrong_credentials_are_a_permanent_failure(
    starttls_with_auth: TlsSmtpSink, trusting: ssl.SSLContext
) -> None:
    url = starttls_with_auth.url(userinfo="mailer:wrong")

    with pytest.raises(MailDeliveryFailed) as failure:
        await mailer(url, trusting).send(MAIL)

    # 535 5.7.8 (RFC 4954 §6): a 5yz answer, so the outbox does not retry it.
    assert not failure.value.temporary
    assert failure.value.reason.startswith("smtp 535")
    # aiosmtplib tries each offered mechanism (PLAIN, then LOGIN) before giving up.
    assert set(starttls_with_auth.login_attempts) == {"mailer"}
    assert starttls_with_auth.deliveries == []


async def test_credentials_are_not_sent_to_a_server_without_tls(
    plain_with_auth: TlsSmtpSink, trusting: ssl.SSLContext
) -> None:
    with pytest.raises(MailDeliveryFailed) as failure:
        await mailer(plain_with_auth.url(userinfo=USERINFO), trusting).send(MAIL)

    assert not failure.value.temporary
    assert "without TLS" in failure.value.reason
    assert plain_with_auth.login_attempts == []
    assert plain_with_auth.deliveries == []


@pytest.mark.parametrize("trust", ["system store", "another certificate"])
@pytest.mark.parametrize(
    ("mode", "scheme", "query"),
    [
        ("starttls", "smtp", ""),
        ("starttls", "smtp", "starttls=required"),
        ("implicit", "smtps", ""),
    ],
)
async def test_an_untrusted_certificate_is_refused_without_falling_back_to_plaintext(
    certificate: SelfSignedCertificate,
    tmp_path: Path,
    trust: str,
    mode: Mode,
    scheme: str,
    query: str,
) -> None:
    other = SelfSignedCertificate.write(tmp_path, "other").client_context()
    context = None if trust == "system store" else other

    with TlsSmtpSink(certificate, mode, CREDENTIALS) as sink:
        url = sink.url(scheme=scheme, userinfo=USERINFO, query=query)
        with pytest.raises(MailDeliveryFailed) as failure:
            await mailer(url, context).send(MAIL)

        assert sink.login_attempts == []
        assert sink.deliveries == []
    assert "certificate verify failed" in failure.value.reason
