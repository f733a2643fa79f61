from __future__ import annotations

from typing import Protocol


class BreachCheckUnavailable(Exception):
    """The breach corpus could not answer (down, slow, a bad answer); ``reason`` names how."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class BreachedPasswords(Protocol):
    async def is_breached(self, password: str) -> bool:
        """Whether the password appears in known breaches; raise ``BreachCheckUnavailable``
        when that cannot be told in time."""
        ...
