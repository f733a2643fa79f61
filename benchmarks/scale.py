"""Many live grants in Valkey, issued fast: the real ``issue.lua`` and ``rotate.lua`` run in
a server-side loop (a thousand per call), each grant for its own user like real sign-ins
and refreshed once, as a live session is; and what one costs."""

from __future__ import annotations

import time
from typing import cast

import valkey

from infrastructure.grants.valkey import parse_valkey_url
from infrastructure.grants.valkey.grant_store import session_keys
from infrastructure.grants.valkey.scripts import ISSUE, ROTATE

BATCH = 1000
# issue.lua and rotate.lua as functions, called once per grant with the keys and arguments
# a real sign-in and its first refresh would get (a 22-character session id, 32-byte
# hashes; times in µs; the first token of generation 0), under the key names
# ``grant_store.session_keys`` gives a session on a single primary. Once rotated, a family
# holds all it ever will: however often it rotates later, its size stays (its generation
# grows by a digit only every tenfold rotations).
LOADER = f"""
local function issue(KEYS, ARGV)
{ISSUE}
end
local function rotate(KEYS, ARGV)
{ROTATE}
end
local function unhex(hex)
  return (string.gsub(hex, '..', function(pair) return string.char(tonumber(pair, 16)) end))
end
local prefix, first, count, now = ARGV[1], tonumber(ARGV[2]), tonumber(ARGV[3]), ARGV[4]
local idle, absolute, ttl = ARGV[5], ARGV[6], ARGV[7]
for i = first, first + count - 1 do
  local sid = string.sub(redis.sha1hex('s' .. i), 1, 22)
  local hash = unhex(redis.sha1hex('t' .. i) .. string.sub(redis.sha1hex('u' .. i), 1, 24))
  local uid = tostring(1000000000 + i)
  local family = prefix .. 's:' .. sid
  issue({{family}}, {{uid, hash, idle, absolute, ttl, 'user', now, 'pwd'}})
  local successor = unhex(redis.sha1hex('n' .. i) .. string.sub(redis.sha1hex('v' .. i), 1, 24))
  rotate({{family, prefix .. 'revoked:' .. sid, prefix .. 'session:' .. sid}},
    {{hash, successor, now, idle, 10000000, now, 3600000, '0'}})
end
return count
"""

DAY_US = 86_400_000_000


def now_us() -> int:
    return int(time.time() * 1_000_000)


def client(url: str) -> valkey.Valkey:
    client_url, _ = parse_valkey_url(url)
    return valkey.Valkey.from_url(client_url, socket_timeout=60)


def load(url: str, prefix: str, first: int, count: int, now_us: int) -> None:
    """Issue grants ``first`` … ``first + count - 1``."""
    with client(url) as c:
        script = c.register_script(LOADER)
        for start in range(first, first + count, BATCH):
            n = min(BATCH, first + count - start)
            args = [prefix, start, n, now_us, now_us + 7 * DAY_US, now_us + 30 * DAY_US]
            script(args=[*args, 30 * 86_400_000])


def used_memory(url: str) -> int:
    with client(url) as c:
        return int(cast(dict[str, int], c.info("memory"))["used_memory"])


def keys_of_one(url: str, prefix: str, index: int) -> int:
    """MEMORY USAGE of grant ``index``'s keys: its family, the only one a session has."""
    with client(url) as c:
        sid = c.eval(f"return string.sub(redis.sha1hex('s{index}'), 1, 22)", 0).decode()
        return int(c.memory_usage(session_keys(prefix, sid).family, samples=0) or 0)
