"""Response bodies of the health checks."""

from __future__ import annotations

import msgspec


class HealthBody(msgspec.Struct, frozen=True):
    status: str
    checks: dict[str, str] = msgspec.field(default_factory=dict)
