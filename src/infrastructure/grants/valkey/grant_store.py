"""The refresh grant store in Valkey: each step is one Lua script (see ``scripts.py``)."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import cast

from valkey.asyncio.cluster import ValkeyCluster

from domain.assurance import Assurance
from domain.entities import RefreshGrant
from domain.ports import (
    GraceReplay,
    Invalid,
    RefreshGrantStore,
    Reused,
    Rotated,
    Rotation,
    RotationOutcome,
    SessionIdsOfUser,
    Throttled,
)
from infrastructure.grants.valkey import scripts
from infrastructure.grants.valkey.client import (
    GC_SLACK_MS,
    MICROSECOND,
    ValkeyClient,
    from_micros,
    gc_ttl_ms,
    micros,
    register_script,
    storage_errors,
    text,
)
from infrastructure.grants.valkey.deadline import ValkeyClock
from infrastructure.grants.valkey.denylist import PushedDenylist, channel_of
from infrastructure.grants.valkey.rate_limiter import hit_args, wait_seconds
from infrastructure.grants.valkey.urls import DEFAULT_PREFIX

# How long after it is sent a rotation may still run: half the client's 2 s read timeout,
# so the reply of one that ran has the other half to arrive.
ROTATION_BUDGET = 1.0


@dataclass(frozen=True, slots=True)
class SessionKeys:
    family: str
    denied: str

    def pair(self) -> list[str]:
        """The keys every family script takes, in its order."""
        return [self.family, self.denied]


def session_keys(prefix: str, session_id: str, *, cluster: bool = False) -> SessionKeys:
    """The one place a session's key names are made. In a cluster they share the hash
    tag ``{<sid>}``, so every script over one session runs on that session's slot."""
    sid = f"{{{session_id}}}" if cluster else session_id
    return SessionKeys(f"{prefix}s:{sid}", f"{prefix}revoked:{sid}")


def _hash(token_hash: str) -> bytes:
    """Stored binary: 32 bytes rather than 64 hex characters."""
    return bytes.fromhex(token_hash)


class ValkeyGrantStore(RefreshGrantStore):
    """One hash per session, nothing per token or per user (see the package docstring).

    ``user_sessions`` answers which sessions a user has (SQL), for ``revoke_user`` and
    ``set_role``. ``cluster`` hash-tags the keys per session; the rotation's rate-limit
    hit (its key is the client's, in another slot) is then counted by a call of its own.
    Every denial is published (``denylist.py``); ``denylist``, the denials this process has
    heard of, answers ``is_denied`` when it can.
    """

    def __init__(
        self,
        client: ValkeyClient,
        user_sessions: SessionIdsOfUser,
        prefix: str = DEFAULT_PREFIX,
        *,
        cluster: bool | None = None,
        denylist: PushedDenylist | None = None,
    ) -> None:
        self._client = client
        self._denylist = denylist
        self._user_sessions = user_sessions
        self._prefix = prefix
        # None: as the client is (names tagged on a cluster client; a test may ask for them).
        self._cluster = isinstance(client, ValkeyCluster) if cluster is None else cluster
        # Every store publishes its denials, whoever listens (none in a cluster: denylist.py).
        self._channel = "" if self._cluster else channel_of(prefix)
        self._issue = register_script(client, scripts.ISSUE)
        self._rotate = register_script(client, scripts.ROTATE)
        self._revoke = register_script(client, scripts.REVOKE)
        self._set_role = register_script(client, scripts.SET_ROLE)
        self._reassure = register_script(client, scripts.REASSURE)
        self._hit = register_script(client, scripts.HIT)
        self._valkey_clock = ValkeyClock()

    def _keys(self, session_id: str) -> SessionKeys:
        return session_keys(self._prefix, session_id, cluster=self._cluster)

    async def issue(self, grant: RefreshGrant, now: datetime) -> None:
        args: list[str | int | bytes] = [
            grant.user_id,
            _hash(grant.token_hash),
            micros(grant.idle_expires_at),
            micros(grant.absolute_expires_at),
            gc_ttl_ms(grant.absolute_expires_at, now),
            grant.role,
            micros(grant.assurance.auth_time),
            grant.assurance.stored_amr(),
        ]
        with storage_errors():
            await self._issue(keys=[self._keys(grant.session_id).family], args=args)

    async def rotate(self, rotation: Rotation) -> RotationOutcome:
        keys = self._keys(rotation.session_id).pair()
        args: list[str | int | bytes] = [
            _hash(rotation.presented_hash),
            _hash(rotation.successor_hash),
            micros(rotation.now),
            micros(rotation.now + rotation.idle_ttl),
            rotation.grace // MICROSECOND,
            micros(rotation.deny_until),
            GC_SLACK_MS,
            rotation.presented_generation,
            self._channel,
        ]
        with storage_errors():
            if (limit := rotation.limit) is not None:
                rate = f"{self._prefix}rate:{limit.key}"
                hit = hit_args(limit.limit, limit.window)
                if self._cluster:
                    wait = int(await self._hit(keys=[rate], args=[micros(rotation.now), *hit]))
                    if wait >= 0:
                        return Throttled(wait_seconds(wait) or 1)
                else:
                    keys.append(rate)
                    args += hit
            reply = await self._rotate_in_time(keys, args)
        if reply[0] == b"throttled":
            return Throttled(wait_seconds(cast(int, reply[1])) or 1)
        kind, *rest = [None if part is None else text(cast(bytes, part)) for part in reply]
        if kind == "invalid":
            return Invalid(str(rest[0]))
        sid, uid = rotation.session_id, int(str(rest[0]))
        if kind == "reused":
            return Reused(session_id=sid, user_id=uid)
        outcome = Rotated if kind == "rotated" else GraceReplay
        return outcome(
            session_id=sid,
            user_id=uid,
            idle_expires_at=from_micros(str(rest[1])),
            absolute_expires_at=from_micros(str(rest[2])),
            role=str(rest[3]),
            assurance=Assurance.stored(from_micros(str(rest[4])), rest[5]),
        )

    async def _rotate_in_time(
        self, keys: list[str], args: list[str | int | bytes]
    ) -> list[bytes | int | None]:
        """The rotation script, which refuses to run past the deadline passed with it: a
        rotation its caller stopped waiting for (answered 503) must never take effect later
        (``deadline.lua``). A refusal back within the budget only shows that the idea of
        Valkey's clock here was off (the refusal's stamp corrects it): once more."""
        for _ in range(2):
            sent = time.monotonic()
            deadline = self._valkey_clock.deadline(ROTATION_BUDGET)
            reply = cast(
                list[bytes | int | None], await self._rotate(keys=keys, args=[*args, deadline])
            )
            self._valkey_clock.stamped(cast(int, reply[-1]))
            if reply[0] != b"late":
                return reply[:-1]
            if time.monotonic() - sent >= ROTATION_BUDGET:
                break
        raise TimeoutError(f"Valkey reached the rotation after its {ROTATION_BUDGET:g} s")

    async def revoke_session(self, session_id: str, deny_until: datetime) -> bool:
        held = await self._revoke_all([session_id], deny_until, deny_without_family=True)
        return bool(held)

    async def revoke_user(
        self, user_id: int, deny_until: datetime, keep: str | None = None
    ) -> list[str]:
        sessions = await self._user_sessions.session_ids_of(user_id)  # SQL: its own errors
        # A session without a family here was revoked or ended before: its access tokens
        # were denied then, or live out their time (expiry is no attack).
        held = await self._revoke_all(
            [sid for sid in sessions if sid != keep], deny_until, deny_without_family=False
        )
        return sorted(held)

    async def set_role(self, user_id: int, role: str) -> int:
        sessions = await self._user_sessions.session_ids_of(user_id)
        changed = 0
        for group in self._groups(sessions):
            keys = [key for sid in group for key in self._keys(sid).pair()]
            with storage_errors():
                changed += int(await self._set_role(keys=keys, args=[role]))
        return changed

    async def reassure(self, session_id: str, assurance: Assurance) -> bool:
        args: list[str | int] = [micros(assurance.auth_time), assurance.stored_amr()]
        with storage_errors():
            found = await self._reassure(keys=[self._keys(session_id).family], args=args)
        return bool(found)

    async def is_denied(self, session_id: str, now: datetime) -> bool:
        key, now_us = self._keys(session_id).denied, micros(now)
        pushed = self._denylist
        if pushed is not None and (known := pushed.answer(key, now_us)) is not None:
            return known
        ticket = None if pushed is None else pushed.ticket()
        with storage_errors():
            found = cast(bytes | None, await self._client.get(key))
        until = None if found is None else int(found)
        if pushed is not None:
            pushed.learn(key, until, ticket)
        return until is not None and until > now_us

    async def with_grants(self, session_ids: Sequence[str]) -> set[str]:
        """One EXISTS per session, pipelined (sessions may live on any node)."""
        if not session_ids:
            return set()
        with storage_errors():
            async with self._client.pipeline(transaction=False) as pipe:
                for session_id in session_ids:
                    pipe.exists(self._keys(session_id).family)
                found = cast(list[int], await pipe.execute())
        return {sid for sid, exists in zip(session_ids, found, strict=True) if exists}

    async def ping(self) -> None:
        with storage_errors():
            if isinstance(self._client, ValkeyCluster):  # ready: every primary answers
                await self._client.ping(target_nodes=ValkeyCluster.PRIMARIES)
            else:
                await self._client.ping()

    async def _revoke_all(
        self, sessions: list[str], deny_until: datetime, *, deny_without_family: bool
    ) -> list[str]:
        """Revoke ``sessions``; the ones that had a family."""
        args: list[str | int] = [
            micros(deny_until),
            gc_ttl_ms(deny_until),
            "1" if deny_without_family else "0",
            self._channel,
        ]

        async def revoke(group: list[str]) -> list[str]:
            keys = [key for sid in group for key in self._keys(sid).pair()]
            with storage_errors():
                held = cast(list[int], await self._revoke(keys=keys, args=args))
            return [sid for sid, had in zip(group, held, strict=True) if had]

        done = await asyncio.gather(*(revoke(group) for group in self._groups(sessions)))
        return [sid for group in done for sid in group]

    def _groups(self, sessions: list[str]) -> list[list[str]]:
        """One script call over all sessions on a single primary; one per session (its own
        slot) in a cluster."""
        if not sessions:
            return []
        return [[sid] for sid in sessions] if self._cluster else [sessions]
