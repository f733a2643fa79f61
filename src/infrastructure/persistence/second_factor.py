"""TOTP secrets and recovery codes in SQL. Each single-use rule is one conditional UPDATE:
under concurrent uses exactly one finds the row still as it needs it."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from domain.entities import TotpCredential
from domain.ports import AuditEvent, RecoveryCodes, TotpCredentials, WebhookEvent
from infrastructure.persistence.account_events import record_event
from infrastructure.persistence.database import Database, Tx, as_datetime, as_optional_datetime


class SqlTotpCredentials(TotpCredentials):
    def __init__(self, database: Database) -> None:
        self._db = database

    async def get(self, user_id: int) -> TotpCredential | None:
        # The keyed read: every password sign-in asks whether the account has an app.
        row = await self._db.read_key(
            "SELECT user_id, secret_sealed, last_step, created_at, confirmed_at"
            " FROM totp_credentials WHERE user_id = $1",
            user_id,
        )
        if row is None:
            return None
        return TotpCredential(
            user_id=int(row["user_id"]),
            sealed_secret=row["secret_sealed"],
            last_step=None if row["last_step"] is None else int(row["last_step"]),
            created_at=as_datetime(row["created_at"]),
            confirmed_at=as_optional_datetime(row["confirmed_at"]),
        )

    async def start(self, user_id: int, sealed_secret: str, now: datetime) -> bool:
        async with self._db.transaction() as tx:
            row = await tx.fetchone(
                "INSERT INTO totp_credentials (user_id, secret_sealed, created_at)"
                " VALUES ($1, $2, $3) ON CONFLICT (user_id) DO UPDATE"
                " SET secret_sealed = excluded.secret_sealed, created_at = excluded.created_at,"
                " last_step = NULL WHERE totp_credentials.confirmed_at IS NULL"
                " RETURNING user_id",
                user_id,
                sealed_secret,
                now,
            )
        return row is not None

    async def activate(
        self,
        user_id: int,
        sealed_secret: str,
        step: int,
        recovery_digests: Sequence[str],
        now: datetime,
        told: AuditEvent | None = None,
    ) -> bool:
        async with self._db.transaction() as tx:
            row = await tx.fetchone(
                "UPDATE totp_credentials SET confirmed_at = $2, last_step = $3"
                " WHERE user_id = $1 AND confirmed_at IS NULL AND secret_sealed = $4"
                " RETURNING user_id",
                user_id,
                now,
                step,
                sealed_secret,
            )
            if row is None:
                return False
            # The account changed: a single-factor sign-in under way looks at the user row
            # once its session is stored, and sees it (``application.session_issuer``).
            await tx.execute("UPDATE users SET updated_at = $2 WHERE id = $1", user_id, now)
            await replace_codes(tx, user_id, recovery_digests, now)
            await record_event(tx, WebhookEvent.MFA_ENABLED, user_id, now, told=told, factor="totp")
        return True

    async def use_step(self, user_id: int, step: int) -> bool:
        async with self._db.transaction() as tx:
            row = await tx.fetchone(
                "UPDATE totp_credentials SET last_step = $2 WHERE user_id = $1"
                " AND confirmed_at IS NOT NULL AND (last_step IS NULL OR last_step < $2)"
                " RETURNING user_id",
                user_id,
                step,
            )
        return row is not None

    async def remove(self, user_id: int, now: datetime, told: AuditEvent | None = None) -> bool:
        async with self._db.transaction() as tx:
            await tx.execute("DELETE FROM recovery_codes WHERE user_id = $1", user_id)
            row = await tx.fetchone(
                "DELETE FROM totp_credentials WHERE user_id = $1 RETURNING confirmed_at", user_id
            )
            active = row is not None and row["confirmed_at"] is not None
            if active:  # an enrolment never confirmed was no second factor
                await record_event(
                    tx, WebhookEvent.MFA_DISABLED, user_id, now, told=told, factor="totp"
                )
        return active


class SqlRecoveryCodes(RecoveryCodes):
    def __init__(self, database: Database) -> None:
        self._db = database

    async def replace(
        self, user_id: int, digests: Sequence[str], now: datetime, told: AuditEvent | None = None
    ) -> None:
        async with self._db.transaction() as tx:
            await replace_codes(tx, user_id, digests, now)
            await record_event(tx, None, user_id, now, told=told)

    async def use(
        self, user_id: int, digest: str, now: datetime, told: AuditEvent | None = None
    ) -> bool:
        async with self._db.transaction() as tx:
            row = await tx.fetchone(
                "UPDATE recovery_codes SET used_at = $3 WHERE user_id = $1 AND digest = $2"
                " AND used_at IS NULL RETURNING user_id",
                user_id,
                digest,
                now,
            )
            if row is not None:
                await record_event(tx, None, user_id, now, told=told)
        return row is not None

    async def left(self, user_id: int) -> int:
        async with self._db.transaction(write=False) as tx:
            row = await tx.fetchone(
                "SELECT COUNT(*) AS unused FROM recovery_codes"
                " WHERE user_id = $1 AND used_at IS NULL",
                user_id,
            )
        return 0 if row is None else int(row["unused"])


async def replace_codes(tx: Tx, user_id: int, digests: Sequence[str], now: datetime) -> None:
    await tx.execute("DELETE FROM recovery_codes WHERE user_id = $1", user_id)
    for digest in digests:
        await tx.execute(
            "INSERT INTO recovery_codes (user_id, digest, created_at) VALUES ($1, $2, $3)",
            user_id,
            digest,
            now,
        )
