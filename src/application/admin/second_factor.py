"""An operator removes a user's second factors, for someone who lost them (a password reset
does not: it proves the mailbox, not the device)."""

from __future__ import annotations

from application.admin.commands import AdminCommand, admin_event
from application.email.notices import Notice
from application.email.queue import MailQueue
from domain.errors import OwnAccount, UserNotFound
from domain.ports import AuditLog, Clock, Passkeys, TotpCredentials, UserRepository


class ResetSecondFactor:
    """The authenticator app, its recovery codes and every passkey of the user go."""

    def __init__(
        self,
        *,
        users: UserRepository,
        totp: TotpCredentials,
        passkeys: Passkeys,
        queue: MailQueue,
        audit: AuditLog,
        clock: Clock,
    ) -> None:
        self._users = users
        self._totp = totp
        self._passkeys = passkeys
        self._queue = queue
        self._audit = audit
        self._clock = clock

    async def execute(self, command: AdminCommand) -> None:
        if command.actor.admin_id == command.user_id:
            # Its own factors an admin removes as any user does, with a recent proof (step-up,
            # RFC 9470): an admin token left in a tab must not turn its account into one a
            # password alone opens.
            raise OwnAccount()
        user = await self._users.get(command.user_id)
        if user is None:
            raise UserNotFound()
        now = self._clock.now()
        app_gone = admin_event("mfa_disabled", command)
        if await self._totp.remove(command.user_id, now, app_gone):
            self._audit.record(app_gone)
            await self._queue.notify(user, Notice.APP_REMOVED)
        passkey_gone = admin_event("passkey_removed", command)
        for _ in await self._passkeys.remove_all(command.user_id, now, passkey_gone):
            self._audit.record(passkey_gone)
            await self._queue.notify(user, Notice.PASSKEY_REMOVED)
        # The action itself, whatever it found to remove: every admin action is audited.
        self._audit.record(admin_event("mfa_reset", command))
