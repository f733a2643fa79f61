"""Small fakes for the security ports: instant hashing, a recording audit log, captchas."""

from __future__ import annotations

from domain.errors import CaptchaFailed
from domain.ports import AuditEvent, AuditLog, CaptchaVerifier, IdGenerator, PasswordHasher

LEGACY_PREFIX = "old$"


class FakeHasher(PasswordHasher):
    """``fake$<password>``; hashes starting with ``old$`` verify too but need a rehash."""

    def __init__(self) -> None:
        self.verified: list[str] = []

    @property
    def verify_calls(self) -> int:
        return len(self.verified)

    async def hash(self, password: str) -> str:
        return "fake$" + password

    async def verify(self, password_hash: str, password: str) -> bool:
        self.verified.append(password)
        return password_hash in ("fake$" + password, LEGACY_PREFIX + password)

    def needs_rehash(self, password_hash: str) -> bool:
        return password_hash.startswith(LEGACY_PREFIX)


class RecordingAudit(AuditLog):
    def __init__(self) -> None:
        self.events: list[AuditEvent] = []

    def record(self, event: AuditEvent) -> None:
        self.events.append(event)

    def named(self, name: str) -> list[AuditEvent]:
        return [e for e in self.events if e.event == name]


class AcceptingCaptcha(CaptchaVerifier):
    async def verify(self, token: str | None, remote_ip: str | None) -> None:
        return None


class RejectingCaptcha(CaptchaVerifier):
    async def verify(self, token: str | None, remote_ip: str | None) -> None:
        raise CaptchaFailed()


class SequentialIds(IdGenerator):
    def __init__(self) -> None:
        self._sessions = 0
        self._tokens = 0

    def session_id(self) -> str:
        self._sessions += 1
        return f"session-{self._sessions}"

    def token_id(self) -> str:
        self._tokens += 1
        return f"token-{self._tokens}"
