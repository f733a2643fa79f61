"""An operator removes a user's second factors, for someone who lost them (a password reset
does not: it proves the mailbox, not the device)."""

from __future__ import annotations

from application.admin.commands import AdminCommand, audit_admin
from domain.errors import UserNotFound
from domain.ports import AuditLog, Passkeys, TotpCredentials, UserRepository


class ResetSecondFactor:
    """The authenticator app, its recovery codes and every passkey of the user go."""

    def __init__(
        self,
        *,
        users: UserRepository,
        totp: TotpCredentials,
        passkeys: Passkeys,
        audit: AuditLog,
    ) -> None:
        self._users = users
        self._totp = totp
        self._passkeys = passkeys
        self._audit = audit

    async def execute(self, command: AdminCommand) -> None:
        if await self._users.get(command.user_id) is None:
            raise UserNotFound()
        if await self._totp.remove(command.user_id):
            audit_admin(self._audit, "mfa_disabled", command)
        for _ in await self._passkeys.remove_all(command.user_id):
            audit_admin(self._audit, "passkey_removed", command)
