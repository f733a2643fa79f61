"""Refresh grants in the service's SQL database (SQLite or Postgres).

Each state change is one transaction: BEGIN IMMEDIATE in SQLite, the family row locked
with SELECT … FOR UPDATE in Postgres, so concurrent rotations of one token serialise.
The rotation itself is the domain's rule: read the family, ``rotate_family``, write back.

A family is read by its session id (the token names it).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta

from domain.assurance import Assurance
from domain.entities import RefreshGrant
from domain.ports import (
    ExpiredGrants,
    RefreshGrantStore,
    Rotation,
    RotationOutcome,
    Throttled,
)
from domain.rotation import GrantFamily, RotationStep, rotate_family
from infrastructure.grants.sql.rate_limiter import SqlRateLimiter
from infrastructure.persistence.database import (
    Database,
    Row,
    Tx,
    as_datetime,
    as_optional_datetime,
    skip_locked,
)

# Expired deny markers are swept at most this often, off most sign-ins.
SWEEP_EVERY = timedelta(minutes=1)
_IN_LIST = 500  # session ids per IN (…) list, well under SQLite's parameter limit


class SqlGrantStore(RefreshGrantStore, ExpiredGrants):
    def __init__(self, database: Database, limiter: SqlRateLimiter | None = None) -> None:
        self._db = database
        self._skip_locked = skip_locked(database)
        self._limiter = limiter or SqlRateLimiter(database)
        self._swept_at: datetime | None = None

    async def issue(self, grant: RefreshGrant, now: datetime) -> None:
        sweep = self._swept_at is None or now - self._swept_at >= SWEEP_EVERY
        if sweep:
            self._swept_at = now

        async def work(tx: Tx) -> None:
            await tx.execute(
                "INSERT INTO refresh_families (session_id, user_id, current_hash, previous_hash,"
                " rotated_at, idle_expires_at, absolute_expires_at, role, auth_time, amr,"
                " generation) VALUES ($1, $2, $3, NULL, NULL, $4, $5, $6, $7, $8, 0)",
                grant.session_id,
                grant.user_id,
                grant.token_hash,
                grant.idle_expires_at,
                grant.absolute_expires_at,
                grant.role,
                grant.assurance.auth_time,
                grant.assurance.stored_amr(),
            )
            if sweep:
                # Housekeeping rides on a sign-in a minute: expired markers go.
                await tx.execute("DELETE FROM revoked_sessions WHERE deny_until <= $1", now)

        await self._db.run(work)

    async def rotate(self, rotation: Rotation) -> RotationOutcome:
        return await self._db.run(lambda tx: self._rotate(tx, rotation))

    async def _rotate(self, tx: Tx, rotation: Rotation) -> RotationOutcome:
        if (limit := rotation.limit) is not None:  # counted in the rotation's transaction
            hit = (limit.key, limit.limit, limit.window, rotation.now)
            if (wait := await self._limiter.hit_in(tx, *hit)) is not None:
                return Throttled(wait)
        family = await self._family(tx, rotation.session_id)
        step = rotate_family(family, rotation)
        if family is not None:
            await self._write(tx, family, step)
        return step.outcome

    async def revoke_session(self, session_id: str, deny_until: datetime) -> bool:
        return await self._db.run(lambda tx: self._revoke(tx, session_id, deny_until))

    async def revoke_user(
        self, user_id: int, deny_until: datetime, keep: str | None = None
    ) -> list[str]:
        async def work(tx: Tx) -> list[str]:
            rows = await tx.fetchall(
                "SELECT session_id FROM refresh_families WHERE user_id = $1 AND session_id <> $2"
                f"{self._db.for_update}",
                user_id,
                keep or "",
            )
            revoked = sorted(str(row["session_id"]) for row in rows)
            for session_id in revoked:
                await self._revoke(tx, session_id, deny_until)
            return revoked

        return await self._db.run(work)

    async def set_role(self, user_id: int, role: str) -> int:
        return await self._db.run(
            lambda tx: tx.execute(
                "UPDATE refresh_families SET role = $1 WHERE user_id = $2", role, user_id
            )
        )

    async def reassure(self, session_id: str, assurance: Assurance) -> bool:
        changed = await self._db.run(
            lambda tx: tx.execute(
                "UPDATE refresh_families SET auth_time = $1, amr = $2 WHERE session_id = $3"
                " AND idle_expires_at > $1 AND absolute_expires_at > $1",
                assurance.auth_time,
                assurance.stored_amr(),
                session_id,
            )
        )
        return changed > 0

    async def is_denied(self, session_id: str, now: datetime) -> bool:
        return await self._db.read_key(_DENIED, session_id, now) is not None

    async def with_grants(self, session_ids: Sequence[str]) -> set[str]:
        found: set[str] = set()
        async with self._db.transaction(write=False) as tx:
            for start in range(0, len(session_ids), _IN_LIST):
                chunk = session_ids[start : start + _IN_LIST]
                marks = ", ".join(f"${n}" for n in range(1, len(chunk) + 1))
                rows = await tx.fetchall(
                    f"SELECT session_id FROM refresh_families WHERE session_id IN ({marks})",
                    *chunk,
                )
                found.update(str(row["session_id"]) for row in rows)
        return found

    async def delete_expired(self, before: datetime, limit: int) -> int:
        # A family presented after its expiry is dropped by that rotation (``rotate_family``);
        # one nobody presented again stayed until now.
        return await self._db.run(
            lambda tx: tx.execute(
                "DELETE FROM refresh_families WHERE session_id IN (SELECT session_id"
                " FROM refresh_families WHERE idle_expires_at < $1 OR absolute_expires_at < $1"
                f" LIMIT $2{self._skip_locked})",
                before,
                limit,
            )
        )

    async def intact(self) -> bool:
        """Always: grants and sessions share one database, so they cannot part."""
        return True

    async def seal(self) -> None:
        return None

    async def ping(self) -> None:
        await self._db.ping()

    async def _family(self, tx: Tx, session_id: str) -> GrantFamily | None:
        row = await tx.fetchone(
            f"SELECT {_FAMILY} FROM refresh_families f WHERE f.session_id = $1"
            f"{self._db.for_update}",
            session_id,
        )
        return None if row is None else _family(row)

    async def _write(self, tx: Tx, before: GrantFamily, step: RotationStep) -> None:
        """Store the family ``step`` keeps in place of ``before``, in the caller's tx."""
        after = step.family
        if step.deny_until is not None:
            await self._revoke(tx, before.session_id, step.deny_until)
        elif after is None:
            await self._drop(tx, before.session_id)
        elif after != before:
            await tx.execute(
                "UPDATE refresh_families SET current_hash = $1, previous_hash = $2,"
                " rotated_at = $3, idle_expires_at = $4, generation = $5 WHERE session_id = $6",
                after.current_hash,
                after.previous_hash,
                after.rotated_at,
                after.idle_expires_at,
                after.generation,
                after.session_id,
            )

    async def _revoke(self, tx: Tx, session_id: str, deny_until: datetime) -> bool:
        await tx.execute(
            "INSERT INTO revoked_sessions (session_id, deny_until) VALUES ($1, $2)"
            " ON CONFLICT (session_id) DO UPDATE SET deny_until = excluded.deny_until",
            session_id,
            deny_until,
        )
        return await self._drop(tx, session_id)

    async def _drop(self, tx: Tx, session_id: str) -> bool:
        deleted = await tx.execute("DELETE FROM refresh_families WHERE session_id = $1", session_id)
        return deleted > 0


_DENIED = "SELECT 1 AS denied FROM revoked_sessions WHERE session_id = $1 AND deny_until > $2"
_FAMILY = (
    "f.session_id, f.user_id, f.current_hash, f.previous_hash, f.rotated_at,"
    " f.idle_expires_at, f.absolute_expires_at, f.role, f.auth_time, f.amr, f.generation"
)


def _family(row: Row) -> GrantFamily:
    return GrantFamily(
        session_id=str(row["session_id"]),
        user_id=int(row["user_id"]),
        current_hash=str(row["current_hash"]),
        previous_hash=None if row["previous_hash"] is None else str(row["previous_hash"]),
        rotated_at=as_optional_datetime(row["rotated_at"]),
        idle_expires_at=as_datetime(row["idle_expires_at"]),
        absolute_expires_at=as_datetime(row["absolute_expires_at"]),
        role=str(row["role"]),
        assurance=Assurance.stored(as_datetime(row["auth_time"]), row["amr"]),
        generation=int(row["generation"]),
    )
