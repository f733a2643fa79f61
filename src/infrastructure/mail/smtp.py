"""Delivery over SMTP with aiosmtplib.

``smtp://host[:587]``: STARTTLS whenever the server offers it (``?starttls=required``: refuse
to send without it); ``smtps://host[:465]``: implicit TLS (RFC 8314). Credentials in the URL
are sent only over TLS, never in the clear (RFC 4954 §4, OWASP ASVS V9.2).
"""

from __future__ import annotations

import ssl
from dataclasses import dataclass
from urllib.parse import parse_qs, unquote, urlsplit

import aiosmtplib

from domain.ports import MailDeliveryFailed, Mailer, OutgoingMail
from infrastructure.mail.message import mime_message

TIMEOUT_SECONDS = 15.0


@dataclass(frozen=True, slots=True, kw_only=True)
class SmtpTarget:
    host: str
    port: int
    implicit_tls: bool
    starttls_required: bool
    username: str | None
    password: str | None

    @classmethod
    def parse(cls, url: str) -> SmtpTarget:
        parts = urlsplit(url)
        if parts.scheme not in ("smtp", "smtps") or not parts.hostname:
            raise ValueError("an SMTP URL is smtp://host[:port] or smtps://host[:port]")
        implicit = parts.scheme == "smtps"
        query = parse_qs(parts.query)
        return cls(
            host=parts.hostname,
            port=parts.port or (465 if implicit else 587),
            implicit_tls=implicit,
            starttls_required=query.get("starttls", [""])[0] == "required",
            username=unquote(parts.username) if parts.username else None,
            password=unquote(parts.password) if parts.password else None,
        )


class SmtpMailer(Mailer):
    def __init__(
        self,
        url: str,
        sender: str,
        *,
        timeout: float = TIMEOUT_SECONDS,
        tls_context: ssl.SSLContext | None = None,
    ) -> None:
        self._target = SmtpTarget.parse(url)
        self._sender = sender
        self._timeout = timeout
        self._tls_context = tls_context

    async def send(self, mail: OutgoingMail) -> None:
        try:
            message = mime_message(mail, self._sender)
        except (ValueError, UnicodeError) as e:  # the email package's refusals
            raise MailDeliveryFailed(f"message not built: {e}", temporary=False) from e
        target = self._target
        client = aiosmtplib.SMTP(
            hostname=target.host,
            port=target.port,
            use_tls=target.implicit_tls,
            # None: upgrade when the server offers STARTTLS; True: insist on it.
            start_tls=True
            if target.starttls_required
            else (False if target.implicit_tls else None),
            timeout=self._timeout,
            tls_context=self._tls_context,
        )
        try:
            await client.connect()
            await self._authenticate(client)
            # The envelope names the recipient itself, never what its header decodes to.
            await client.send_message(message, recipients=[mail.recipient])
        except aiosmtplib.SMTPRecipientsRefused as e:
            codes = [refused.code for refused in e.recipients]
            raise _failed(min(codes, default=550), str(e)) from e
        except aiosmtplib.SMTPResponseException as e:
            raise _failed(e.code, e.message) from e
        except (aiosmtplib.SMTPException, OSError, TimeoutError) as e:
            raise MailDeliveryFailed(f"smtp unreachable: {e}", temporary=True) from e
        finally:
            if client.is_connected:
                try:
                    await client.quit()
                except (aiosmtplib.SMTPException, OSError, TimeoutError):
                    client.close()

    async def _authenticate(self, client: aiosmtplib.SMTP) -> None:
        target = self._target
        if target.username is None:
            return
        encrypted = target.implicit_tls or client.get_transport_info("sslcontext") is not None
        if not encrypted:
            raise MailDeliveryFailed(
                "refusing to send SMTP credentials without TLS", temporary=False
            )
        await client.login(target.username, target.password or "")


def _failed(code: int, message: str) -> MailDeliveryFailed:
    # RFC 5321 §4.2.1: 4yz is transient (try again later), 5yz permanent.
    return MailDeliveryFailed(f"smtp {code}: {message[:200]}", temporary=400 <= code < 500)
