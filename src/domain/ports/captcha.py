from __future__ import annotations

from typing import Protocol


class CaptchaVerifier(Protocol):
    async def verify(self, token: str | None, remote_ip: str | None) -> None:
        """Return when a human solved it; raise ``CaptchaFailed`` or ``CaptchaUnavailable``."""
        ...
