"""In-memory known devices; the contract suite proves them equal to the SQL adapter."""

from __future__ import annotations

from datetime import datetime

from domain.ports import DeviceSeen, KnownDevices


class MemoryKnownDevices(KnownDevices):
    def __init__(self) -> None:
        self.devices: dict[int, dict[str, datetime]] = {}  # digest: first seen

    async def remember(self, user_id: int, device_digest: str, now: datetime) -> DeviceSeen:
        known = self.devices.setdefault(user_id, {})
        if device_digest in known:
            return DeviceSeen.KNOWN
        known[device_digest] = now
        return DeviceSeen.NEW if len(known) > 1 else DeviceSeen.FIRST

    async def forget_since(self, user_id: int, since: datetime) -> int:
        known = self.devices.get(user_id, {})
        recent = [digest for digest, first_seen in known.items() if first_seen >= since]
        for digest in recent:
            del known[digest]
        return len(recent)
