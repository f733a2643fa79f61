"""Valkey grant store and keyed records; behaves exactly like ``memory.py``.

Key layout, all under ``prefix``:

- ``refresh:<token_hash>`` → session id (every generation, until the session ends)
- ``session:<sid>`` → hash: user_id, current, previous, rotated_at, idle_expires_at,
  absolute_expires_at
- ``user:<uid>:sessions`` → set of session ids
- ``revoked:<sid>`` → deny-until
- ``once:<key>`` → ``b"<expires_at>:<value>"``; ``rate:<key>`` → sorted set of hits

Times are integer microseconds since the epoch, always the caller's ``now``: expiry is
decided by comparing them, never by Valkey's clock. TTLs only collect garbage, with slack.
Every state change is one Lua script (``redis.call``: Valkey and Redis). Scripts build
the session keys from the prefix, so this targets a single primary (standalone or
Sentinel), not Cluster. Clients must return bytes (``decode_responses=False``, as from
``open_valkey``): one-time values are binary.
"""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from typing import Final, cast
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from valkey.asyncio import Valkey
from valkey.exceptions import ValkeyError

from domain.entities import RefreshGrant
from domain.errors import StorageUnavailable
from domain.ports import (
    GraceReplay,
    Invalid,
    Reused,
    Rotated,
    Rotation,
    RotationOutcome,
    SessionRef,
)

DEFAULT_PREFIX: Final = "authgate:"
_EPOCH: Final = datetime(1970, 1, 1, tzinfo=UTC)
_MICROSECOND: Final = timedelta(microseconds=1)
_GC_SLACK_MS: Final = 3_600_000  # keys outlive what they record by an hour

_ISSUE = """
local session, refresh, sessions = KEYS[1], KEYS[2], KEYS[3]
local sid, uid, hash, idle, absolute, ttl, prefix = unpack(ARGV)
-- forget ids whose session key was already collected, so the set stays small
for _, other in ipairs(redis.call('SMEMBERS', sessions)) do
  if redis.call('EXISTS', prefix .. 'session:' .. other) == 0 then
    redis.call('SREM', sessions, other)
  end
end
redis.call('DEL', session)
redis.call('HSET', session, 'user_id', uid, 'current', hash,
  'idle_expires_at', idle, 'absolute_expires_at', absolute)
redis.call('PEXPIRE', session, ttl)
redis.call('SET', refresh, sid, 'PX', ttl)
redis.call('SADD', sessions, sid)
if redis.call('PTTL', sessions) < tonumber(ttl) then redis.call('PEXPIRE', sessions, ttl) end
return 1
"""

# RFC 9700 §4.14.2: rotation with reuse detection; a replayed old token revokes the family.
_ROTATE = """
local prefix, presented, successor = ARGV[1], ARGV[2], ARGV[3]
local now, idle_candidate, grace = tonumber(ARGV[4]), ARGV[5], tonumber(ARGV[6])
local deny_until, slack = ARGV[7], tonumber(ARGV[8])
local sid = redis.call('GET', KEYS[1])
if not sid then return {'invalid', 'unknown'} end
local session = prefix .. 'session:' .. sid
local f = redis.call('HMGET', session, 'user_id', 'current', 'previous', 'rotated_at',
  'idle_expires_at', 'absolute_expires_at')
local uid, current, previous, rotated_at, idle, absolute = f[1], f[2], f[3], f[4], f[5], f[6]
if not uid then return {'invalid', 'unknown'} end
local function ttl(until_us)
  return math.max(math.floor((tonumber(until_us) - now) / 1000), 0) + slack
end
local function drop()
  redis.call('DEL', session)
  redis.call('SREM', prefix .. 'user:' .. uid .. ':sessions', sid)
end
if tonumber(idle) <= now or tonumber(absolute) <= now then
  drop()
  return {'invalid', 'expired'}
end
if presented == current then
  local new_idle = idle_candidate
  if tonumber(new_idle) > tonumber(absolute) then new_idle = absolute end
  redis.call('HSET', session, 'previous', current, 'current', successor,
    'rotated_at', ARGV[4], 'idle_expires_at', new_idle)
  redis.call('SET', KEYS[2], sid, 'PX', ttl(absolute))
  return {'rotated', sid, uid, new_idle, absolute}
end
if presented == previous and rotated_at and now - tonumber(rotated_at) < grace
    and successor == current then
  return {'grace', sid, uid, idle, absolute}
end
drop()
redis.call('SET', prefix .. 'revoked:' .. sid, deny_until, 'PX', ttl(deny_until))
return {'reused', sid, uid}
"""

_SESSION_OF = """
local sid = redis.call('GET', KEYS[1])
if not sid then return false end
local f = redis.call('HMGET', ARGV[1] .. 'session:' .. sid,
  'idle_expires_at', 'absolute_expires_at', 'user_id')
local now = tonumber(ARGV[2])
if not f[1] or tonumber(f[1]) <= now or tonumber(f[2]) <= now then return false end
return {sid, f[3]}
"""

# ARGV: prefix, deny_until, deny ttl (ms), then the script's own arguments.
_REVOKE = """
local prefix = ARGV[1]
local function revoke(sid)
  redis.call('SET', prefix .. 'revoked:' .. sid, ARGV[2], 'PX', ARGV[3])
  local session = prefix .. 'session:' .. sid
  local uid = redis.call('HGET', session, 'user_id')
  if not uid then return 0 end
  redis.call('DEL', session)
  redis.call('SREM', prefix .. 'user:' .. uid .. ':sessions', sid)
  return 1
end
"""
_REVOKE_SESSION = _REVOKE + "return revoke(ARGV[4])"
_REVOKE_USER = (
    _REVOKE
    + """
local revoked = {}
for _, sid in ipairs(redis.call('SMEMBERS', prefix .. 'user:' .. ARGV[4] .. ':sessions')) do
  if sid ~= ARGV[5] then
    revoke(sid)
    table.insert(revoked, sid)
  end
end
return revoked
"""
)

# Sliding window: drop hits at or before now - window; the over-limit attempt is not counted.
_HIT = """
local now, window, limit = tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now - window)
if redis.call('ZCARD', KEYS[1]) >= limit then
  local oldest = redis.call('ZRANGE', KEYS[1], 0, 0, 'WITHSCORES')[2]
  if not oldest then return window end
  return tonumber(oldest) + window - now
end
redis.call('ZADD', KEYS[1], ARGV[1], ARGV[4])
redis.call('PEXPIRE', KEYS[1], ARGV[5])
return -1
"""


def parse_valkey_url(url: str) -> tuple[str, str]:
    """Split ``?prefix=`` off a Valkey URL: (URL for the client, key prefix)."""
    parts = urlsplit(url)
    query = parse_qsl(parts.query, keep_blank_values=True)
    prefixes = [value for name, value in query if name == "prefix"]
    if not prefixes:
        return url, DEFAULT_PREFIX
    rest = urlencode([(name, value) for name, value in query if name != "prefix"])
    return urlunsplit(parts._replace(query=rest)), prefixes[0]


def open_valkey(url: str) -> Valkey:
    """A client that fails fast when the server is gone; a ``?prefix=`` is ignored."""
    client_url, _ = parse_valkey_url(url)
    return cast(
        Valkey,
        Valkey.from_url(
            client_url, socket_connect_timeout=2, socket_timeout=2, health_check_interval=30
        ),
    )


@contextmanager
def _storage_errors() -> Iterator[None]:
    try:
        yield
    except (ValkeyError, OSError) as e:  # ConnectionError/TimeoutError are ValkeyErrors
        raise StorageUnavailable() from e


def _us(t: datetime) -> int:
    return (t - _EPOCH) // _MICROSECOND


def _at(us: bytes | str | int) -> datetime:
    return _EPOCH + timedelta(microseconds=int(us))


def _text(value: bytes | str) -> str:
    return value.decode() if isinstance(value, bytes) else value


def _gc_ttl_ms(until: datetime, now: datetime | None = None) -> int:
    """Garbage-collection TTL. Without a caller's ``now`` the wall clock is only a guess,
    which is fine: the stored timestamp, not the TTL, decides."""
    left = until - (now or datetime.now(UTC))
    return max(left // timedelta(milliseconds=1), 0) + _GC_SLACK_MS


class ValkeyGrantStore:
    def __init__(self, client: Valkey, prefix: str = DEFAULT_PREFIX) -> None:
        self._client = client
        self._prefix = prefix
        self._issue = client.register_script(_ISSUE)
        self._rotate = client.register_script(_ROTATE)
        self._session_of = client.register_script(_SESSION_OF)
        self._revoke_session = client.register_script(_REVOKE_SESSION)
        self._revoke_user = client.register_script(_REVOKE_USER)

    async def issue(self, grant: RefreshGrant, now: datetime) -> None:
        p = self._prefix
        keys = [
            f"{p}session:{grant.session_id}",
            f"{p}refresh:{grant.token_hash}",
            f"{p}user:{grant.user_id}:sessions",
        ]
        args: list[str | int] = [
            grant.session_id,
            grant.user_id,
            grant.token_hash,
            _us(grant.idle_expires_at),
            _us(grant.absolute_expires_at),
            _gc_ttl_ms(grant.absolute_expires_at, now),
            p,
        ]
        with _storage_errors():
            await self._issue(keys=keys, args=args)

    async def rotate(self, rotation: Rotation) -> RotationOutcome:
        keys = [
            f"{self._prefix}refresh:{rotation.presented_hash}",
            f"{self._prefix}refresh:{rotation.successor_hash}",
        ]
        args: list[str | int] = [
            self._prefix,
            rotation.presented_hash,
            rotation.successor_hash,
            _us(rotation.now),
            _us(rotation.now + rotation.idle_ttl),
            rotation.grace // _MICROSECOND,
            _us(rotation.deny_until),
            _GC_SLACK_MS,
        ]
        with _storage_errors():
            reply = cast(list[bytes], await self._rotate(keys=keys, args=args))
        kind, *rest = [_text(part) for part in reply]
        if kind == "invalid":
            return Invalid(rest[0])
        if kind == "reused":
            return Reused(session_id=rest[0], user_id=int(rest[1]))
        outcome = Rotated if kind == "rotated" else GraceReplay
        return outcome(
            session_id=rest[0],
            user_id=int(rest[1]),
            idle_expires_at=_at(rest[2]),
            absolute_expires_at=_at(rest[3]),
        )

    async def session_of(self, token_hash: str, now: datetime) -> SessionRef | None:
        keys = [f"{self._prefix}refresh:{token_hash}"]
        with _storage_errors():
            found = cast(
                list[bytes] | None,
                await self._session_of(keys=keys, args=[self._prefix, _us(now)]),
            )
        return None if found is None else SessionRef(_text(found[0]), int(found[1]))

    async def revoke_session(self, session_id: str, deny_until: datetime) -> bool:
        args: list[str | int] = [self._prefix, _us(deny_until), _gc_ttl_ms(deny_until), session_id]
        with _storage_errors():
            return bool(await self._revoke_session(args=args))

    async def revoke_user(
        self, user_id: int, deny_until: datetime, keep: str | None = None
    ) -> list[str]:
        args: list[str | int] = [self._prefix, _us(deny_until), _gc_ttl_ms(deny_until), user_id]
        if keep is not None:
            args.append(keep)
        with _storage_errors():
            revoked = cast(list[bytes], await self._revoke_user(args=args))
        return sorted(_text(sid) for sid in revoked)

    async def is_denied(self, session_id: str, now: datetime) -> bool:
        with _storage_errors():
            until = cast(
                bytes | None, await self._client.get(f"{self._prefix}revoked:{session_id}")
            )
        return until is not None and int(until) > _us(now)

    async def ping(self) -> None:
        with _storage_errors():
            await self._client.ping()


class ValkeyOneTimeStore:
    def __init__(self, client: Valkey, prefix: str = DEFAULT_PREFIX) -> None:
        self._client = client
        self._prefix = prefix

    async def put(self, key: str, value: bytes, expires_at: datetime) -> None:
        record = b"%d:%b" % (_us(expires_at), value)
        with _storage_errors():
            await self._client.set(f"{self._prefix}once:{key}", record, px=_gc_ttl_ms(expires_at))

    async def take(self, key: str, now: datetime) -> bytes | None:
        with _storage_errors():  # GETDEL: one atomic step, so a value is handed out once
            record = cast(bytes | None, await self._client.getdel(f"{self._prefix}once:{key}"))
        if record is None:
            return None
        expires_at, _, value = record.partition(b":")
        return value if int(expires_at) > _us(now) else None


class ValkeyRateLimiter:
    def __init__(self, client: Valkey, prefix: str = DEFAULT_PREFIX) -> None:
        self._prefix = prefix
        self._client = client
        self._hit = client.register_script(_HIT)

    async def hit(self, key: str, limit: int, window: timedelta, now: datetime) -> int | None:
        window_us = window // _MICROSECOND
        member = secrets.token_hex(8)  # hits at the same instant must not collapse into one
        args: list[str | int] = [
            _us(now),
            window_us,
            limit,
            member,
            window_us // 1000 + _GC_SLACK_MS,
        ]
        with _storage_errors():
            wait_us = cast(int, await self._hit(keys=[f"{self._prefix}rate:{key}"], args=args))
        if wait_us < 0:
            return None
        return max(1, int(timedelta(microseconds=wait_us).total_seconds() + 0.999))

    async def reset(self, key: str) -> None:
        with _storage_errors():
            await self._client.delete(f"{self._prefix}rate:{key}")
