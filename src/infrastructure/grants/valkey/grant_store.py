"""The refresh grant store in Valkey: each method is one Lua script (see ``scripts.py``)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import cast

from valkey.asyncio import Valkey

from domain.entities import RefreshGrant
from domain.ports import (
    GraceReplay,
    Invalid,
    RefreshGrantStore,
    Reused,
    Rotated,
    Rotation,
    RotationOutcome,
    SessionRef,
    Throttled,
)
from infrastructure.grants.valkey import scripts
from infrastructure.grants.valkey.client import (
    DEFAULT_PREFIX,
    GC_SLACK_MS,
    MICROSECOND,
    from_micros,
    gc_ttl_ms,
    micros,
    storage_errors,
    text,
)
from infrastructure.grants.valkey.rate_limiter import hit_args, wait_seconds


class ValkeyGrantStore(RefreshGrantStore):
    def _family_key(self, session_id: str) -> str:
        return f"{self._prefix}session:{session_id}"

    def _denied_key(self, session_id: str) -> str:
        return f"{self._prefix}revoked:{session_id}"

    def __init__(self, client: Valkey, prefix: str = DEFAULT_PREFIX) -> None:
        self._client = client
        self._prefix = prefix
        self._issue = client.register_script(scripts.ISSUE)
        self._rotate = client.register_script(scripts.ROTATE)
        self._session_of = client.register_script(scripts.SESSION_OF)
        self._revoke_session = client.register_script(scripts.REVOKE_SESSION)
        self._revoke_user = client.register_script(scripts.REVOKE_USER)
        self._set_role = client.register_script(scripts.SET_ROLE)

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
            micros(grant.idle_expires_at),
            micros(grant.absolute_expires_at),
            gc_ttl_ms(grant.absolute_expires_at, now),
            p,
            grant.role or "",  # empty: not known
        ]
        with storage_errors():
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
            micros(rotation.now),
            micros(rotation.now + rotation.idle_ttl),
            rotation.grace // MICROSECOND,
            micros(rotation.deny_until),
            GC_SLACK_MS,
        ]
        if (limit := rotation.limit) is not None:
            keys.append(f"{self._prefix}rate:{limit.key}")
            args += hit_args(limit.limit, limit.window)
        with storage_errors():
            reply = cast(list[bytes | int | None], await self._rotate(keys=keys, args=args))
        if reply[0] == b"throttled":
            return Throttled(wait_seconds(cast(int, reply[1])) or 1)
        kind, *rest = [None if part is None else text(cast(bytes, part)) for part in reply]
        if kind == "invalid":
            return Invalid(str(rest[0]))
        sid, uid = str(rest[0]), int(str(rest[1]))
        if kind == "reused":
            return Reused(session_id=sid, user_id=uid)
        outcome = Rotated if kind == "rotated" else GraceReplay
        return outcome(
            session_id=sid,
            user_id=uid,
            idle_expires_at=from_micros(str(rest[2])),
            absolute_expires_at=from_micros(str(rest[3])),
            role=(rest[4] or None) if len(rest) > 4 else None,
        )

    async def session_of(self, token_hash: str, now: datetime) -> SessionRef | None:
        keys = [f"{self._prefix}refresh:{token_hash}"]
        with storage_errors():
            found = cast(
                list[bytes] | None,
                await self._session_of(keys=keys, args=[self._prefix, micros(now)]),
            )
        return None if found is None else SessionRef(text(found[0]), int(found[1]))

    async def revoke_session(self, session_id: str, deny_until: datetime) -> bool:
        args: list[str | int] = [
            self._prefix,
            micros(deny_until),
            gc_ttl_ms(deny_until),
            session_id,
        ]
        with storage_errors():
            return bool(await self._revoke_session(args=args))

    async def revoke_user(
        self, user_id: int, deny_until: datetime, keep: str | None = None
    ) -> list[str]:
        args: list[str | int] = [self._prefix, micros(deny_until), gc_ttl_ms(deny_until), user_id]
        if keep is not None:
            args.append(keep)
        with storage_errors():
            revoked = cast(list[bytes], await self._revoke_user(args=args))
        return sorted(text(sid) for sid in revoked)

    async def set_role(self, user_id: int, role: str) -> int:
        with storage_errors():
            return int(await self._set_role(args=[self._prefix, user_id, role]))

    async def is_denied(self, session_id: str, now: datetime) -> bool:
        with storage_errors():
            until = cast(bytes | None, await self._client.get(self._denied_key(session_id)))
        return until is not None and int(until) > micros(now)

    async def with_grants(self, session_ids: Sequence[str]) -> set[str]:
        """One EXISTS per family key, pipelined: keys of one call may live on any node."""
        if not session_ids:
            return set()
        with storage_errors():
            async with self._client.pipeline(transaction=False) as pipe:
                for session_id in session_ids:
                    pipe.exists(self._family_key(session_id))
                found = cast(list[int], await pipe.execute())
        return {sid for sid, exists in zip(session_ids, found, strict=True) if exists}

    async def ping(self) -> None:
        with storage_errors():
            await self._client.ping()
