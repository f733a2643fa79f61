"""Valkey grant store and keyed records; they behave exactly like ``memory.py``.

Key layout, all under ``prefix``:

- ``refresh:<token_hash>`` → session id (every generation, until the session ends)
- ``session:<sid>`` → hash: user_id, current, previous, rotated_at, idle_expires_at,
  absolute_expires_at
- ``user:<uid>:sessions`` → set of session ids
- ``revoked:<sid>`` → deny-until
- ``once:<key>`` → ``b"<expires_at>:<value>"``; ``rate:<key>`` → sorted set of hits

Every state change is one Lua script (``scripts.py``). The grant store's scripts build the
session keys from the prefix, so it targets a single primary (standalone or Sentinel), not
Cluster. One-time values and the rate limiter touch one key per command or script (``hit.lua``
gets its key in ``KEYS``), so they run on a Valkey Cluster too (``valkey+cluster://``),
under the same key names.
"""

from infrastructure.grants.valkey.client import (
    ValkeyClient,
    open_valkey,
    parse_valkey_url,
    single_primary,
)
from infrastructure.grants.valkey.grant_store import ValkeyGrantStore
from infrastructure.grants.valkey.one_time import ValkeyOneTimeStore
from infrastructure.grants.valkey.rate_limiter import ValkeyRateLimiter

__all__ = [
    "ValkeyClient",
    "ValkeyGrantStore",
    "ValkeyOneTimeStore",
    "ValkeyRateLimiter",
    "open_valkey",
    "parse_valkey_url",
    "single_primary",
]
