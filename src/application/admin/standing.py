"""Changing an account's standing: disable, enable, unlock, delete."""

from __future__ import annotations

from application.admin.commands import AdminCommand, admin_event, audit_admin, keep_an_admin
from application.client import ClientInfo
from application.erasure import AccountEraser
from application.revocation import SessionRevoker
from application.throttle import Throttle
from domain.entities import User
from domain.errors import OwnAccount, UserNotFound
from domain.ports import AuditLog, Clock, UserAdministration, UserRepository


async def _target(users: UserRepository, command: AdminCommand, *, own: bool = True) -> User:
    if not own and command.actor.admin_id == command.user_id:
        raise OwnAccount()  # an admin cannot lock itself out; another admin (or the CLI) can
    user = await users.get(command.user_id)
    if user is None:
        raise UserNotFound()
    return user


class DisableUser:
    """Refuses the account's sign-ins and ends all its sessions at once: grants dropped and
    every session on the access-token denylist (OWASP ASVS 5.0 V7.4.2: terminate all active
    sessions when an account is disabled)."""

    def __init__(
        self,
        *,
        users: UserRepository,
        administration: UserAdministration,
        revoker: SessionRevoker,
        clock: Clock,
        audit: AuditLog,
    ) -> None:
        self._users = users
        self._administration = administration
        self._revoker = revoker
        self._clock = clock
        self._audit = audit

    async def execute(self, command: AdminCommand) -> None:
        await keep_an_admin(self._administration, command.user_id)
        await _target(self._users, command, own=False)
        now = self._clock.now()
        # Marked first, so a sign-in racing this step is refused by the issuer or, at the
        # latest, at its first refresh.
        disabled = admin_event("user_disabled", command)
        await self._administration.set_disabled(command.user_id, now, now, disabled)
        # The sessions' ends are the user's to read: they name the reason, not the admin's
        # address and browser (the audit line of the disabling has them).
        await self._revoker.revoke_all(
            command.user_id, None, ClientInfo(), reason="account_disabled"
        )
        self._audit.record(disabled)


class EnableUser:
    def __init__(
        self,
        *,
        users: UserRepository,
        administration: UserAdministration,
        clock: Clock,
        audit: AuditLog,
    ) -> None:
        self._users = users
        self._administration = administration
        self._clock = clock
        self._audit = audit

    async def execute(self, command: AdminCommand) -> None:
        await _target(self._users, command)
        enabled = admin_event("user_enabled", command)
        await self._administration.set_disabled(command.user_id, None, self._clock.now(), enabled)
        self._audit.record(enabled)


class UnlockUser:
    """Clears the failed-login limits of the account, whichever addresses they came from."""

    def __init__(self, *, users: UserRepository, throttle: Throttle, audit: AuditLog) -> None:
        self._users = users
        self._throttle = throttle
        self._audit = audit

    async def execute(self, command: AdminCommand) -> None:
        user = await _target(self._users, command)
        await self._throttle.unlock(user.email)
        audit_admin(self._audit, "user_unlocked", command)


class DeleteUser:
    """Erases the user: ends its sessions (their access tokens denied at once), then its
    rows."""

    def __init__(
        self,
        *,
        users: UserRepository,
        administration: UserAdministration,
        eraser: AccountEraser,
        audit: AuditLog,
    ) -> None:
        self._users = users
        self._administration = administration
        self._eraser = eraser
        self._audit = audit

    async def execute(self, command: AdminCommand) -> None:
        await keep_an_admin(self._administration, command.user_id)
        await _target(self._users, command, own=False)
        await self._eraser.erase(command.user_id, command.actor.client)
        audit_admin(self._audit, "user_deleted", command)
