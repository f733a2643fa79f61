""" "This wasn't me": the link of a new-device notice ends every session and blocks the
password until a reset (OWASP ASVS 5.0 V6.3.7, V7.4.5: the user can end every session)."""

from __future__ import annotations

from dataclasses import dataclass

from application.client import ClientInfo, change_event
from application.compensation import quietly
from application.email.queue import MailQueue
from application.email.tokens import TOKEN_MAX, digest
from application.revocation import SessionRevoker
from domain.errors import InvalidSecureToken
from domain.ports import AuditLog, Clock, MailKind, MailUnitOfWork, UserRepository


@dataclass(frozen=True, slots=True, kw_only=True)
class SecureAccountCommand:
    token: str
    client: ClientInfo


class SecureAccount:
    def __init__(
        self,
        *,
        mail: MailUnitOfWork,
        users: UserRepository,
        revoker: SessionRevoker,
        queue: MailQueue,
        clock: Clock,
        audit: AuditLog,
    ) -> None:
        self._mail = mail
        self._users = users
        self._revoker = revoker
        self._queue = queue
        self._clock = clock
        self._audit = audit

    async def execute(self, command: SecureAccountCommand) -> None:
        if not command.token or len(command.token) > TOKEN_MAX:
            raise InvalidSecureToken()
        token_hash, now = digest(command.token), self._clock.now()
        async with self._mail.begin() as work:
            user_id = await work.tokens.holder(token_hash, MailKind.SECURE_ACCOUNT, now)
        if user_id is None:
            raise InvalidSecureToken()
        # Every session ends before the link is spent: should a backend fail on the way,
        # nothing is half-done that the owner cannot finish by clicking again (the link
        # still works), and no intruder's session outlives a spent link.
        await self._revoker.revoke_all(user_id, None, command.client, reason="account_secured")
        user = await self._users.get(user_id)
        secured = change_event("account_secured", command.client, user_id=user_id)
        async with self._mail.begin() as work:
            if await work.tokens.redeem(token_hash, MailKind.SECURE_ACCOUNT, now) is None:
                raise InvalidSecureToken()  # spent meanwhile: that click does the rest
            # Whoever signed in knew the password: it stops working at once. The owner
            # sets a new one through the reset mail, queued with the change; a link of
            # another notice has no more to do and dies too.
            await work.accounts.set_password(user_id, None, now, verified=False, told=secured)
            await work.tokens.discard(user_id, MailKind.SECURE_ACCOUNT, now)
            if user is not None:
                await self._queue.send_in(work, user, MailKind.RESET_PASSWORD)
        self._audit.record(secured)
        # A sign-in with the password between the first end and its blocking: ended too.
        await quietly(
            self._revoker.revoke_all(user_id, None, command.client, reason="account_secured")
        )
