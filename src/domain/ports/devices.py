"""The devices each account has signed in from, to tell its owner about a new one."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Protocol


class DeviceSeen(StrEnum):
    FIRST = "first"  # the account's first device: nothing to compare it with
    KNOWN = "known"
    NEW = "new"  # the account has signed in before, never from this device


class KnownDevices(Protocol):
    async def remember(self, user_id: int, device_digest: str, now: datetime) -> DeviceSeen:
        """Note the device for the account and say what it was to it; of concurrent
        sign-ins from one new device, exactly one sees it ``NEW`` (or ``FIRST``)."""
        ...

    async def forget_since(self, user_id: int, since: datetime) -> int:
        """Forget the account's devices first seen at or after ``since`` (an intruder's,
        after "this wasn't me"): a sign-in from one is new again. How many were."""
        ...
