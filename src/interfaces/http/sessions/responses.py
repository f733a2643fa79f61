"""Response bodies of the device sessions."""

from __future__ import annotations

import msgspec


class SessionBody(msgspec.Struct, frozen=True):
    id: str
    created_at: str
    last_used_at: str
    ip_address: str | None
    user_agent: str | None
    current: bool


class SessionsBody(msgspec.Struct, frozen=True):
    sessions: list[SessionBody]
