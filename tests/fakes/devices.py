"""In-memory known devices; the contract suite proves them equal to the SQL adapter."""

from __future__ import annotations

from datetime import datetime

from domain.ports import DeviceSeen, KnownDevices


class MemoryKnownDevices(KnownDevices):
    def __init__(self) -> None:
        self.devices: dict[int, set[str]] = {}

    async def remember(self, user_id: int, device_digest: str, now: datetime) -> DeviceSeen:
        known = self.devices.setdefault(user_id, set())
        if device_digest in known:
            return DeviceSeen.KNOWN
        known.add(device_digest)
        return DeviceSeen.NEW if len(known) > 1 else DeviceSeen.FIRST
