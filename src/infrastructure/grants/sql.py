"""Refresh grants and keyed records in the service's SQL database (SQLite or Postgres).

Each state change is one transaction: BEGIN IMMEDIATE in SQLite, the family row locked
with SELECT … FOR UPDATE in Postgres, so concurrent rotations of one token serialise.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from domain.entities import RefreshGrant
from domain.ports import (
    GraceReplay,
    Invalid,
    OneTimeStore,
    RateLimiter,
    RefreshGrantStore,
    Reused,
    Rotated,
    Rotation,
    RotationOutcome,
    SessionRef,
)
from infrastructure.persistence.database import (
    Database,
    Row,
    Tx,
    as_datetime,
    as_optional_datetime,
)


class SqlGrantStore(RefreshGrantStore):
    def __init__(self, database: Database) -> None:
        self._db = database

    async def issue(self, grant: RefreshGrant, now: datetime) -> None:
        async with self._db.transaction() as tx:
            await tx.execute(
                "INSERT INTO refresh_families (session_id, user_id, current_hash, previous_hash,"
                " rotated_at, idle_expires_at, absolute_expires_at)"
                " VALUES (?, ?, ?, NULL, NULL, ?, ?)",
                grant.session_id,
                grant.user_id,
                grant.token_hash,
                grant.idle_expires_at,
                grant.absolute_expires_at,
            )
            await self._remember(tx, grant.token_hash, grant.session_id, grant.absolute_expires_at)
            # Housekeeping rides on sign-ins: expired token hashes and deny markers go.
            await tx.execute("DELETE FROM refresh_tokens WHERE expires_at <= ?", now)
            await tx.execute("DELETE FROM revoked_sessions WHERE deny_until <= ?", now)

    async def rotate(self, rotation: Rotation) -> RotationOutcome:
        async with self._db.transaction() as tx:
            family = await self._family_of(tx, rotation.presented_hash)
            if family is None:
                return Invalid("unknown")
            return await self._transition(tx, family, rotation)

    async def session_of(self, token_hash: str, now: datetime) -> SessionRef | None:
        async with self._db.transaction(write=False) as tx:
            family = await self._family_of(tx, token_hash, lock=False)
        if family is None or _expired(family, now):
            return None
        return SessionRef(str(family["session_id"]), int(family["user_id"]))

    async def revoke_session(self, session_id: str, deny_until: datetime) -> bool:
        async with self._db.transaction() as tx:
            return await self._revoke(tx, session_id, deny_until)

    async def revoke_user(
        self, user_id: int, deny_until: datetime, keep: str | None = None
    ) -> list[str]:
        async with self._db.transaction() as tx:
            rows = await tx.fetchall(
                "SELECT session_id FROM refresh_families WHERE user_id = ? AND session_id <> ?"
                f"{self._db.for_update}",
                user_id,
                keep or "",
            )
            revoked = sorted(str(row["session_id"]) for row in rows)
            for session_id in revoked:
                await self._revoke(tx, session_id, deny_until)
        return revoked

    async def is_denied(self, session_id: str, now: datetime) -> bool:
        async with self._db.transaction(write=False) as tx:
            row = await tx.fetchone(
                "SELECT 1 AS denied FROM revoked_sessions WHERE session_id = ? AND deny_until > ?",
                session_id,
                now,
            )
        return row is not None

    async def ping(self) -> None:
        await self._db.ping()

    async def _family_of(self, tx: Tx, token_hash: str, *, lock: bool = True) -> Row | None:
        return await tx.fetchone(
            "SELECT f.session_id, f.user_id, f.current_hash, f.previous_hash, f.rotated_at,"
            " f.idle_expires_at, f.absolute_expires_at"
            " FROM refresh_tokens t JOIN refresh_families f ON f.session_id = t.session_id"
            f" WHERE t.token_hash = ?{self._db.for_update if lock else ''}",
            token_hash,
        )

    async def _transition(self, tx: Tx, family: Row, rotation: Rotation) -> RotationOutcome:
        session_id, user_id = str(family["session_id"]), int(family["user_id"])
        now = rotation.now
        idle, absolute = _times(family)
        if _expired(family, now):
            await self._drop(tx, session_id)
            return Invalid("expired")
        if rotation.presented_hash == family["current_hash"]:
            idle = min(now + rotation.idle_ttl, absolute)
            await tx.execute(
                "UPDATE refresh_families SET current_hash = ?, previous_hash = ?, rotated_at = ?,"
                " idle_expires_at = ? WHERE session_id = ?",
                rotation.successor_hash,
                rotation.presented_hash,
                now,
                idle,
                session_id,
            )
            await self._remember(tx, rotation.successor_hash, session_id, absolute)
            return Rotated(
                session_id=session_id,
                user_id=user_id,
                idle_expires_at=idle,
                absolute_expires_at=absolute,
            )
        rotated_at = as_optional_datetime(family["rotated_at"])
        if (
            rotation.presented_hash == family["previous_hash"]
            and rotated_at is not None
            and now - rotated_at < rotation.grace
            and rotation.successor_hash == family["current_hash"]
        ):
            return GraceReplay(
                session_id=session_id,
                user_id=user_id,
                idle_expires_at=idle,
                absolute_expires_at=absolute,
            )
        # RFC 9700 §4.14.2: an old token came back, so one of its holders is an attacker;
        # the whole family dies, the current token and its access tokens included.
        await self._revoke(tx, session_id, rotation.deny_until)
        return Reused(session_id=session_id, user_id=user_id)

    async def _remember(self, tx: Tx, token_hash: str, session_id: str, until: datetime) -> None:
        await tx.execute(
            "INSERT INTO refresh_tokens (token_hash, session_id, expires_at) VALUES (?, ?, ?)"
            " ON CONFLICT (token_hash) DO NOTHING",
            token_hash,
            session_id,
            until,
        )

    async def _revoke(self, tx: Tx, session_id: str, deny_until: datetime) -> bool:
        await tx.execute(
            "INSERT INTO revoked_sessions (session_id, deny_until) VALUES (?, ?)"
            " ON CONFLICT (session_id) DO UPDATE SET deny_until = excluded.deny_until",
            session_id,
            deny_until,
        )
        return await self._drop(tx, session_id)

    async def _drop(self, tx: Tx, session_id: str) -> bool:
        return await tx.execute("DELETE FROM refresh_families WHERE session_id = ?", session_id) > 0


def _times(family: Row) -> tuple[datetime, datetime]:
    return as_datetime(family["idle_expires_at"]), as_datetime(family["absolute_expires_at"])


def _expired(family: Row, now: datetime) -> bool:
    idle, absolute = _times(family)
    return idle <= now or absolute <= now


class SqlOneTimeStore(OneTimeStore):
    def __init__(self, database: Database) -> None:
        self._db = database

    async def put(self, key: str, value: bytes, expires_at: datetime) -> None:
        async with self._db.transaction() as tx:
            await tx.execute(
                "INSERT INTO one_time_values (key, value, expires_at) VALUES (?, ?, ?)"
                " ON CONFLICT (key) DO UPDATE SET value = excluded.value,"
                " expires_at = excluded.expires_at",
                key,
                value,
                expires_at,
            )

    async def take(self, key: str, now: datetime) -> bytes | None:
        async with self._db.transaction() as tx:
            row = await tx.fetchone(
                "DELETE FROM one_time_values WHERE key = ? RETURNING value, expires_at", key
            )
            await tx.execute("DELETE FROM one_time_values WHERE expires_at <= ?", now)
        if row is None or as_datetime(row["expires_at"]) <= now:
            return None
        return bytes(row["value"])


class SqlRateLimiter(RateLimiter):
    """Sliding window over timestamped hits; one transaction per attempt, so the count holds
    across every worker process that shares the database."""

    def __init__(self, database: Database) -> None:
        self._db = database

    async def hit(self, key: str, limit: int, window: timedelta, now: datetime) -> int | None:
        async with self._db.transaction() as tx:
            await self._db.lock_key(tx, f"rate:{key}")
            # Each hit expires with its window; expired ones of any key go here too.
            await tx.execute("DELETE FROM rate_limit_hits WHERE expires_at <= ?", now)
            row = await tx.fetchone(
                "SELECT COUNT(*) AS hits, MIN(at) AS oldest FROM rate_limit_hits WHERE key = ?", key
            )
            assert row is not None
            if int(row["hits"]) >= limit:
                wait = as_datetime(row["oldest"]) + window - now
                return max(1, int(wait.total_seconds() + 0.999))
            await tx.execute(
                "INSERT INTO rate_limit_hits (key, at, expires_at) VALUES (?, ?, ?)",
                key,
                now,
                now + window,
            )

        return None

    async def reset(self, key: str) -> None:
        async with self._db.transaction() as tx:
            await tx.execute("DELETE FROM rate_limit_hits WHERE key = ?", key)
