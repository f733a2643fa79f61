from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime

from domain.entities import ADMIN_ROLE, ExternalIdentity, NewUser, User
from domain.errors import LastAdmin
from domain.ports import (
    AuditEvent,
    MailKind,
    OutgoingMail,
    UserAdministration,
    WebhookEvent,
)
from infrastructure.persistence.account_events import record_event
from infrastructure.persistence.database import Database, Tx, as_datetime
from infrastructure.persistence.mail_work import enqueue
from infrastructure.persistence.users import user_of

# Everything this database keeps about one user, children first. (A table added later that
# refers to users, such as pending mails, gets its DELETE here.)
_ERASE = (
    "DELETE FROM user_identities WHERE user_id = $1",
    "DELETE FROM sessions WHERE user_id = $1",
    "DELETE FROM mail_tokens WHERE user_id = $1",
    "DELETE FROM recovery_codes WHERE user_id = $1",
    "DELETE FROM totp_credentials WHERE user_id = $1",
    "DELETE FROM passkeys WHERE user_id = $1",
    "DELETE FROM security_activity WHERE user_id = $1",
    # Every mail about the account (at an address it had before a change too) and every
    # mail to its address goes: those waiting (a body may hold a live token) and the record
    # of those sent (GDPR Art. 17: the address is personal data).
    "DELETE FROM outbox WHERE user_id = $1 OR recipient = (SELECT email FROM users WHERE id = $1)",
    # The apps were told (their payloads name the address): the record of it goes. Those
    # still to go out (this erasure's user.deleted among them) are sent, then kept as long
    # as any (housekeeping's ``WEBHOOKS_KEPT``).
    "DELETE FROM webhook_deliveries WHERE user_id = $1"
    " AND (delivered_at IS NOT NULL OR failed_at IS NOT NULL)",
)


class SqlUserAdministration(UserAdministration):
    """``changed``, when given, hears of a user changed here once the change committed."""

    def __init__(self, database: Database, changed: Callable[[int], None] | None = None) -> None:
        self._db = database
        self._changed = changed

    def _committed(self, user_id: int, changed: int) -> bool:
        if changed and self._changed is not None:
            self._changed(user_id)
        return changed > 0

    async def page(self, *, after: int | None, limit: int, email: str | None) -> list[User]:
        sql = "SELECT * FROM users WHERE id > $1"
        args: list[object] = [after or 0, limit]
        if email is not None:
            sql += " AND email = $3"
            args.append(email)
        async with self._db.transaction(write=False, replica=True) as tx:
            rows = await tx.fetchall(f"{sql} ORDER BY id LIMIT $2", *args)
        return [user_of(row) for row in rows]

    async def identities(self, user_id: int) -> list[ExternalIdentity]:
        async with self._db.transaction(write=False, replica=True) as tx:
            rows = await tx.fetchall(
                "SELECT provider, subject, user_id, email, created_at FROM user_identities"
                " WHERE user_id = $1 ORDER BY created_at, provider, subject",
                user_id,
            )
        return [
            ExternalIdentity(
                provider=row["provider"],
                subject=row["subject"],
                user_id=int(row["user_id"]),
                email=row["email"],
                created_at=as_datetime(row["created_at"]),
            )
            for row in rows
        ]

    async def set_disabled(
        self,
        user_id: int,
        disabled_at: datetime | None,
        now: datetime,
        told: AuditEvent | None = None,
    ) -> bool:
        async with self._db.transaction() as tx:
            if disabled_at is not None:
                await self._keep_an_admin(tx, user_id)
            row = await tx.fetchone(
                f"SELECT disabled_at FROM users WHERE id = $1{self._db.for_update}", user_id
            )
            if row is not None:
                # The apps hear of a change of standing; the activity tells of each command.
                changes = (row["disabled_at"] is None) != (disabled_at is None)
                event = (
                    WebhookEvent.USER_ENABLED if disabled_at is None else WebhookEvent.USER_DISABLED
                )
                await record_event(tx, event if changes else None, user_id, now, told=told)
            if disabled_at is None:
                changed = await tx.execute(
                    "UPDATE users SET disabled_at = NULL, updated_at = $1 WHERE id = $2",
                    now,
                    user_id,
                )
            else:
                changed = await tx.execute(
                    "UPDATE users SET disabled_at = COALESCE(disabled_at, $1), updated_at = $2"
                    " WHERE id = $3",
                    disabled_at,
                    now,
                    user_id,
                )
        return self._committed(user_id, changed)

    async def set_role(
        self, user_id: int, role: str, now: datetime, told: AuditEvent | None = None
    ) -> bool:
        async with self._db.transaction() as tx:
            if role != ADMIN_ROLE:
                await self._keep_an_admin(tx, user_id)
            changed = await tx.execute(
                "UPDATE users SET role = $1, updated_at = $2 WHERE id = $3", role, now, user_id
            )
            if changed:
                await record_event(
                    tx, WebhookEvent.USER_UPDATED, user_id, now, told=told, role=role
                )
        return self._committed(user_id, changed)

    async def _keep_an_admin(self, tx: Tx, user_id: int) -> None:
        """The last active admin stays one (API.md, 409 ``last_admin``), checked under one
        lock in the change's own transaction: two admins disabling or demoting each other
        at once each saw the other still active in a look of its own, and both went on.
        (The use cases look first too, for the answer before any other check.)"""
        await self._db.lock_key(tx, "authgate:active-admins")
        if await _last_active_admin(tx, user_id):
            raise LastAdmin()

    async def last_active_admin(self, user_id: int) -> bool:
        async with self._db.transaction(write=False) as tx:
            return await _last_active_admin(tx, user_id)

    async def erase(
        self, user_id: int, now: datetime, farewell: OutgoingMail | None = None
    ) -> bool:
        async with self._db.transaction() as tx:
            await record_event(tx, WebhookEvent.USER_DELETED, user_id, now)
            for statement in _ERASE:
                await tx.execute(statement, user_id)
            changed = await tx.execute("DELETE FROM users WHERE id = $1", user_id)
            if changed and farewell is not None:
                # Queued in the erasure's own transaction: the last mail goes out though
                # the account is gone, and only if it really is.
                await enqueue(tx, farewell, now)
        return self._committed(user_id, changed)

    async def insert_new(self, users: Sequence[NewUser], now: datetime) -> set[str]:
        if not users:
            return set()
        async with self._db.transaction() as tx:
            # As at every sign-up (``insert_user``): an address kept for an account's way
            # back is not free, whoever imports it.
            held = await _held(tx, [u.email for u in users], now)
            fresh = [u for u in users if u.email not in held]
            if not fresh:
                return set()
            values = ", ".join(
                "(" + ", ".join(f"${6 * n + k}" for k in range(1, 7)) + ")"
                for n in range(len(fresh))
            )
            args = [
                value
                for u in fresh
                for value in (u.email, u.password_hash, u.name, u.role, u.created_at, u.created_at)
            ]
            rows = await tx.fetchall(
                "INSERT INTO users (email, password_hash, name, role, created_at, updated_at)"
                f" VALUES {values} ON CONFLICT (email) DO NOTHING RETURNING id, email",
                *args,
            )
            created = {row["email"]: int(row["id"]) for row in rows}
            # Announced like a sign-up, in file order and in the same transaction.
            for user in fresh:
                if user.email in created:
                    await record_event(
                        tx,
                        WebhookEvent.USER_CREATED,
                        created.pop(user.email),
                        user.created_at,
                        email=user.email,
                    )
        return {row["email"] for row in rows}

    async def taken(self, emails: Sequence[str], now: datetime) -> set[str]:
        if not emails:
            return set()
        listed = ", ".join(f"${n}" for n in range(1, len(emails) + 1))
        async with self._db.transaction(write=False) as tx:
            rows = await tx.fetchall(f"SELECT email FROM users WHERE email IN ({listed})", *emails)
            return {row["email"] for row in rows} | await _held(tx, emails, now)


async def _held(tx: Tx, emails: Sequence[str], now: datetime) -> set[str]:
    """Which of these addresses a live way back keeps (``HELD_FOR_ANOTHER``)."""
    listed = ", ".join(f"${n}" for n in range(2, len(emails) + 2))
    rows = await tx.fetchall(
        f"SELECT DISTINCT email FROM mail_tokens WHERE email IN ({listed})"
        f" AND kind = '{MailKind.RESTORE_EMAIL.value}' AND used_at IS NULL AND expires_at > $1",
        now,
        *emails,
    )
    return {row["email"] for row in rows}


async def _last_active_admin(tx: Tx, user_id: int) -> bool:
    rows = await tx.fetchall(
        "SELECT id FROM users WHERE role = $1 AND disabled_at IS NULL ORDER BY id LIMIT 2",
        ADMIN_ROLE,
    )
    return [int(row["id"]) for row in rows] == [user_id]
