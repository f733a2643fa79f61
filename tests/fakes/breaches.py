"""A breach corpus in memory: the passwords it knows, or no answer at all."""

from __future__ import annotations

from domain.ports import BreachCheckUnavailable, BreachedPasswords


class FakeBreaches(BreachedPasswords):
    def __init__(self, *breached: str) -> None:
        self.breached = set(breached)
        self.unavailable: str | None = None  # a reason: every lookup fails with it
        self.asked: list[str] = []

    async def is_breached(self, password: str) -> bool:
        self.asked.append(password)
        if self.unavailable is not None:
            raise BreachCheckUnavailable(self.unavailable)
        return password in self.breached
