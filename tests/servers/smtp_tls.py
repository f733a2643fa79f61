"""A real SMTP server on loopback that speaks TLS (aiosmtpd): STARTTLS or implicit TLS,
optionally with AUTH (only over TLS), recording how each message reached it.

    with TlsSmtpSink(cert, mode="starttls", credentials=("user", "secret")) as sink:
        ...
        assert sink.deliveries[0].tls_version is not None
        assert sink.deliveries[0].authenticated_as == "user"
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword

from tests.servers.certificate import SelfSignedCertificate
from tests.servers.smtp import free_port

Mode = Literal["plain", "starttls", "implicit"]


@dataclass(frozen=True, slots=True)
class Delivery:
    mail_from: str
    rcpt_tos: list[str]
    tls_version: str | None  # None: the message came over a plaintext connection
    authenticated_as: str | None


@dataclass
class TlsSmtpSink:
    certificate: SelfSignedCertificate
    mode: Mode
    credentials: tuple[str, str] | None = None  # AUTH offered (over TLS only) when set
    port: int = field(default_factory=free_port)
    deliveries: list[Delivery] = field(default_factory=list)
    login_attempts: list[str] = field(default_factory=list)
    _controller: Controller | None = None

    def url(self, *, scheme: str = "smtp", userinfo: str = "", query: str = "") -> str:
        at = f"{userinfo}@" if userinfo else ""
        return f"{scheme}://{at}127.0.0.1:{self.port}{f'?{query}' if query else ''}"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        ssl_object = server.transport.get_extra_info("ssl_object")
        login = session.auth_data.login.decode() if session.authenticated else None
        self.deliveries.append(
            Delivery(
                envelope.mail_from,
                list(envelope.rcpt_tos),
                ssl_object.version() if ssl_object is not None else None,
                login,
            )
        )
        return "250 Message accepted for delivery"

    def _authenticate(
        self, server: Any, session: Any, envelope: Any, mechanism: str, auth_data: Any
    ) -> AuthResult:
        assert isinstance(auth_data, LoginPassword)
        self.login_attempts.append(auth_data.login.decode())
        given = (auth_data.login.decode(), auth_data.password.decode())
        # handled=False: aiosmtpd itself answers a refusal (535 5.7.8).
        return AuthResult(success=given == self.credentials, handled=False, auth_data=auth_data)

    def __enter__(self) -> TlsSmtpSink:
        options: dict[str, Any] = {}
        if self.mode == "starttls":
            options["tls_context"] = self.certificate.server_context()
        if self.mode == "implicit":
            options["ssl_context"] = self.certificate.server_context()
        if self.credentials is not None:
            options.update(authenticator=self._authenticate, auth_require_tls=True)
        self._controller = Controller(self, hostname="127.0.0.1", port=self.port, **options)
        self._controller.start()
        return self

    def __exit__(self, *_: object) -> None:
        if self._controller is not None:
            self._controller.stop()
            self._controller = None
