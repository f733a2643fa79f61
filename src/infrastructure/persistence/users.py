from __future__ import annotations

from datetime import datetime

from domain.entities import ExternalIdentity, NewUser, User
from domain.errors import EmailTaken
from domain.ports import AuditEvent, MailKind, UserRepository, WebhookEvent
from infrastructure.persistence.account_events import record_event
from infrastructure.persistence.database import (
    Database,
    Row,
    Tx,
    UniqueViolation,
    as_datetime,
    as_optional_datetime,
)

_FIELDS = (
    "id",
    "email",
    "password_hash",
    "name",
    "role",
    "created_at",
    "updated_at",
    "disabled_at",
    "email_verified_at",
)
_RETURNING = ", ".join(_FIELDS)
_COLUMNS = ", ".join(f"u.{field}" for field in _FIELDS)


def user_of(row: Row) -> User:
    return User(
        id=int(row["id"]),
        email=row["email"],
        password_hash=row["password_hash"],
        name=row["name"],
        role=row["role"],
        created_at=as_datetime(row["created_at"]),
        updated_at=as_datetime(row["updated_at"]),
        disabled_at=as_optional_datetime(row["disabled_at"]),
        email_verified_at=as_optional_datetime(row["email_verified_at"]),
    )


# An address an account gave up by an email change is kept for it while the "this wasn't
# me" link of that change lives: the link gives it back (``application.email.address``).
HELD_FOR_ANOTHER = (
    f"SELECT 1 FROM mail_tokens WHERE email = $1 AND kind = '{MailKind.RESTORE_EMAIL.value}'"
    " AND used_at IS NULL AND expires_at > $2 AND user_id <> $3"
)


async def insert_user(tx: Tx, user: NewUser, told: AuditEvent | None = None) -> Row:
    """The new user's row, its ``user.created`` webhook and the sign-up's activity row
    (``told``) in the same transaction. An address held for an account's way back is
    taken."""
    if await tx.fetchone(HELD_FOR_ANOTHER, user.email, user.created_at, 0) is not None:
        raise EmailTaken()
    row = await tx.fetchone(
        "INSERT INTO users (email, password_hash, name, role, created_at, updated_at,"
        " email_verified_at)"
        f" VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING {_RETURNING}",
        user.email,
        user.password_hash,
        user.name,
        user.role,
        user.created_at,
        user.created_at,
        user.email_verified_at,
    )
    assert row is not None
    await record_event(
        tx, WebhookEvent.USER_CREATED, int(row["id"]), user.created_at, told=told, email=user.email
    )
    return row


class SqlUserRepository(UserRepository):
    def __init__(self, database: Database) -> None:
        self._db = database

    async def add(self, user: NewUser, told: AuditEvent | None = None) -> User:
        try:
            row = await self._db.run(lambda tx: insert_user(tx, user, told))
        except UniqueViolation as e:
            raise EmailTaken() from e
        return user_of(row)

    async def remove(self, user_id: int) -> None:
        async with self._db.transaction() as tx:
            # An account undone (its sign-up failed part-way) was never announced.
            await tx.execute(
                "DELETE FROM webhook_deliveries WHERE user_id = $1 AND attempts = 0", user_id
            )
            # Nor is its activity kept (no foreign key takes it with the user).
            await tx.execute("DELETE FROM security_activity WHERE user_id = $1", user_id)
            await tx.execute("DELETE FROM users WHERE id = $1", user_id)

    async def get(self, user_id: int) -> User | None:
        return await self._one(f"SELECT {_COLUMNS} FROM users u WHERE u.id = $1", user_id)

    async def get_by_email(self, email: str) -> User | None:
        return await self._one(f"SELECT {_COLUMNS} FROM users u WHERE u.email = $1", email)

    async def get_by_identity(self, provider: str, subject: str) -> User | None:
        return await self._one(
            f"SELECT {_COLUMNS} FROM users u JOIN user_identities i ON i.user_id = u.id"
            " WHERE i.provider = $1 AND i.subject = $2",
            provider,
            subject,
        )

    async def link_identity(self, identity: ExternalIdentity) -> None:
        async with self._db.transaction() as tx:
            await tx.execute(
                "INSERT INTO user_identities (provider, subject, user_id, email, created_at)"
                " VALUES ($1, $2, $3, $4, $5) ON CONFLICT (provider, subject) DO NOTHING",
                identity.provider,
                identity.subject,
                identity.user_id,
                identity.email,
                identity.created_at,
            )

    async def unlink_identities_since(
        self, user_id: int, since: datetime, now: datetime, told: AuditEvent | None = None
    ) -> list[str]:
        async with self._db.transaction() as tx:
            rows = await tx.fetchall(
                "DELETE FROM user_identities WHERE user_id = $1 AND created_at >= $2"
                " RETURNING provider",
                user_id,
                since,
            )
            if rows:
                await record_event(tx, None, user_id, now, told=told)
        return sorted(str(row["provider"]) for row in rows)

    async def rehash_password(
        self, user_id: int, verified: str, password_hash: str, now: datetime
    ) -> None:
        async with self._db.transaction() as tx:
            await tx.execute(
                "UPDATE users SET password_hash = $1, updated_at = $2"
                " WHERE id = $3 AND password_hash = $4",
                password_hash,
                now,
                user_id,
                verified,
            )

    async def _one(self, sql: str, *args: object) -> User | None:
        # A user by a unique key: the keyed read (SQLite's on the loop's own thread), since
        # every sign-in makes two of these.
        row = await self._db.read_key(sql, *args)
        return user_of(row) if row is not None else None
