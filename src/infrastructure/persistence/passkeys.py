"""Passkeys in SQL: public keys and signature counters, never anything secret."""

from __future__ import annotations

from datetime import datetime

from domain.entities import NewPasskey, NewUser, Passkey, User
from domain.errors import EmailTaken, PasskeyExists
from domain.ports import Attested, AuditEvent, PasskeyAccounts, Passkeys, WebhookEvent
from infrastructure.persistence.account_events import record_event
from infrastructure.persistence.database import (
    Database,
    Row,
    Tx,
    UniqueViolation,
    as_datetime,
    as_optional_datetime,
)
from infrastructure.persistence.users import insert_user, user_of

_COLUMNS = (
    "id, user_id, credential_id, public_key, sign_count, transports, user_handle, name,"
    " created_at, last_used_at, at_sign_up"
)


def _passkey(row: Row) -> Passkey:
    return Passkey(
        id=int(row["id"]),
        user_id=int(row["user_id"]),
        credential_id=bytes(row["credential_id"]),
        public_key=bytes(row["public_key"]),
        sign_count=int(row["sign_count"]),
        transports=tuple(t for t in row["transports"].split(",") if t),
        user_handle=bytes(row["user_handle"]),
        name=row["name"],
        created_at=as_datetime(row["created_at"]),
        last_used_at=as_optional_datetime(row["last_used_at"]),
        at_sign_up=bool(row["at_sign_up"]),
    )


async def _insert(tx: Tx, passkey: NewPasskey) -> Row:
    row = await tx.fetchone(
        "INSERT INTO passkeys (user_id, credential_id, public_key, sign_count,"
        " transports, user_handle, name, created_at, at_sign_up)"
        f" VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) RETURNING {_COLUMNS}",
        passkey.user_id,
        passkey.credential_id,
        passkey.public_key,
        passkey.sign_count,
        ",".join(passkey.transports),
        passkey.user_handle,
        passkey.name,
        passkey.created_at,
        passkey.at_sign_up,
    )
    assert row is not None
    return row


class SqlPasskeys(Passkeys):
    def __init__(self, database: Database) -> None:
        self._db = database

    async def add(self, passkey: NewPasskey, told: AuditEvent | None = None) -> Passkey:
        try:
            async with self._db.transaction() as tx:
                row = await _insert(tx, passkey)
                await record_event(
                    tx,
                    WebhookEvent.MFA_ENABLED,
                    passkey.user_id,
                    passkey.created_at,
                    told=told,
                    factor="passkey",
                )
        except UniqueViolation as e:
            raise PasskeyExists() from e
        return _passkey(row)

    async def of_user(self, user_id: int) -> list[Passkey]:
        async with self._db.transaction(write=False) as tx:
            rows = await tx.fetchall(
                f"SELECT {_COLUMNS} FROM passkeys WHERE user_id = $1 ORDER BY created_at, id",
                user_id,
            )
        return [_passkey(row) for row in rows]

    async def by_credential(self, credential_id: bytes) -> Passkey | None:
        async with self._db.transaction(write=False) as tx:
            row = await tx.fetchone(
                f"SELECT {_COLUMNS} FROM passkeys WHERE credential_id = $1", credential_id
            )
        return None if row is None else _passkey(row)

    async def record_use(
        self, passkey_id: int, seen_count: int, new_count: int, now: datetime
    ) -> bool:
        async with self._db.transaction() as tx:
            row = await tx.fetchone(
                "UPDATE passkeys SET sign_count = $3, last_used_at = $4"
                " WHERE id = $1 AND sign_count = $2 RETURNING id",
                passkey_id,
                seen_count,
                new_count,
                now,
            )
        return row is not None

    async def remove(
        self, user_id: int, passkey_id: int, now: datetime, told: AuditEvent | None = None
    ) -> bool:
        async with self._db.transaction() as tx:
            row = await tx.fetchone(
                "DELETE FROM passkeys WHERE id = $1 AND user_id = $2 RETURNING id",
                passkey_id,
                user_id,
            )
            if row is not None:
                await record_event(
                    tx, WebhookEvent.MFA_DISABLED, user_id, now, told=told, factor="passkey"
                )
        return row is not None

    async def remove_all(
        self, user_id: int, now: datetime, told: AuditEvent | None = None
    ) -> list[int]:
        async with self._db.transaction() as tx:
            rows = await tx.fetchall(
                "DELETE FROM passkeys WHERE user_id = $1 RETURNING id", user_id
            )
            for _ in rows:
                await record_event(
                    tx, WebhookEvent.MFA_DISABLED, user_id, now, told=told, factor="passkey"
                )
        return sorted(int(row["id"]) for row in rows)


class SqlPasskeyAccounts(PasskeyAccounts):
    def __init__(self, database: Database) -> None:
        self._db = database

    async def open(
        self,
        user: NewUser,
        passkey: Attested,
        user_handle: bytes,
        told: AuditEvent | None = None,
    ) -> tuple[User, Passkey]:
        async def work(tx: Tx) -> tuple[Row, Row]:
            try:
                user_row = await insert_user(tx, user, told)
            except UniqueViolation as e:
                raise EmailTaken() from e
            try:
                passkey_row = await _insert(
                    tx,
                    NewPasskey(
                        user_id=int(user_row["id"]),
                        credential_id=passkey.credential_id,
                        public_key=passkey.public_key,
                        sign_count=passkey.sign_count,
                        transports=passkey.transports,
                        user_handle=user_handle,
                        name=None,
                        created_at=user.created_at,
                        at_sign_up=True,
                    ),
                )
            except UniqueViolation as e:
                raise PasskeyExists() from e
            return user_row, passkey_row

        # One transaction: no account without its passkey, no passkey without its account.
        user_row, passkey_row = await self._db.run(work)
        return user_of(user_row), _passkey(passkey_row)
