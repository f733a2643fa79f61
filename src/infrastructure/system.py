"""The real clock and id generator."""

from __future__ import annotations

import secrets
from datetime import UTC, datetime

from domain.ports import Clock, IdGenerator


class SystemClock(Clock):
    def now(self) -> datetime:
        return datetime.now(UTC)


class RandomIds(IdGenerator):
    def session_id(self) -> str:
        return secrets.token_urlsafe(16)

    def token_id(self) -> str:
        return secrets.token_urlsafe(16)
