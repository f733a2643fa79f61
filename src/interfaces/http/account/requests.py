"""Request body of "sign out everywhere"."""

from __future__ import annotations

from typing import Literal

import msgspec


class RevokeRequest(msgspec.Struct, frozen=True):
    # A Literal, not bool: Litestar converts in msgspec's lax mode, which takes 1 or "true"
    # for a bool; a Literal of booleans stays strict.
    keep_current: Literal[True, False] = False
