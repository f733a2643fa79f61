"""Valkey grant store and keyed records; they behave exactly like ``memory.py``.

Key layout, all under ``prefix`` (``grant_store.session_keys`` names a session's keys):

- ``s:<sid>`` → hash: u (user id), c and p (current and previous token hash, 32 bytes
  each), r (rotated at), i and a (idle and absolute expiry), o (role),
  g (the current token's generation)
- ``revoked:<sid>`` → deny-until
- ``once:<key>`` → ``b"<expires_at>:<value>"``; ``rate:<key>`` → sorted set of hits

There is no key per token and no per-user set: a token names its session and generation
(under a MAC), and a user's sessions come from SQL (``SessionIdsOfUser``).

Every state change is one Lua script (``scripts.py``) over keys passed in ``KEYS`` only,
all of one session; with ``cluster=True`` those are hash-tagged (``s:{<sid>}``) so each
script runs on the session's slot. One-time values and the rate limiter touch one key per
command or script, under the same names on a Valkey Cluster (``valkey+cluster://``).
"""

from infrastructure.grants.valkey.client import ValkeyClient, open_valkey
from infrastructure.grants.valkey.grant_store import ValkeyGrantStore
from infrastructure.grants.valkey.one_time import ValkeyOneTimeStore
from infrastructure.grants.valkey.rate_limiter import ValkeyRateLimiter
from infrastructure.grants.valkey.urls import cluster_url, parse_valkey_url

__all__ = [
    "ValkeyClient",
    "ValkeyGrantStore",
    "ValkeyOneTimeStore",
    "ValkeyRateLimiter",
    "cluster_url",
    "open_valkey",
    "parse_valkey_url",
]
