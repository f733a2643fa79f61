from __future__ import annotations

from dataclasses import dataclass

from application.breached_passwords import BreachedPasswordCheck, new_password_hash
from application.client import ClientInfo, audit_event, change_event
from application.email.notices import Notice
from application.email.queue import MailQueue
from application.revocation import SessionRevoker
from application.step_up import StepUp
from application.throttle import Throttle
from domain.errors import (
    InvalidCredentials,
    NoPasswordSet,
    PasswordAlreadySet,
)
from domain.ports import (
    AccessClaims,
    AuditLog,
    Clock,
    MailKind,
    MailUnitOfWork,
    PasswordHasher,
)
from domain.values import PASSWORD_MAX


@dataclass(frozen=True, slots=True, kw_only=True)
class ChangePasswordCommand:
    caller: AccessClaims
    current_password: str
    new_password: str
    client: ClientInfo


class ChangePassword:
    """A new password for the signed-in user, who proves the current one (limited like
    login, OWASP ASVS V6.2.3); every other session ends (OWASP Session Management Cheat
    Sheet: renew sessions on a password change). A sensitive action: step-up first."""

    def __init__(
        self,
        *,
        step_up: StepUp,
        mail: MailUnitOfWork,
        hasher: PasswordHasher,
        revoker: SessionRevoker,
        throttle: Throttle,
        queue: MailQueue,
        clock: Clock,
        audit: AuditLog,
        breaches: BreachedPasswordCheck,
    ) -> None:
        self._breaches = breaches
        self._step_up = step_up
        self._mail = mail
        self._queue = queue
        self._hasher = hasher
        self._revoker = revoker
        self._throttle = throttle
        self._clock = clock
        self._audit = audit

    async def execute(self, command: ChangePasswordCommand) -> None:
        user = await self._step_up.user(command.caller)
        if user.password_hash is None:
            raise NoPasswordSet()
        await self._throttle.login(user.email, command.client)
        if len(command.current_password) > PASSWORD_MAX or not await self._hasher.verify(
            user.password_hash, command.current_password
        ):
            audit_event(
                self._audit,
                "password_change_failed",
                command.client,
                user_id=user.id,
                reason="wrong_password",
            )
            raise InvalidCredentials()
        password_hash = await new_password_hash(
            command.new_password,
            breaches=self._breaches,
            hasher=self._hasher,
            client=command.client,
            user_id=user.id,
        )
        now = self._clock.now()
        changed = change_event("password_changed", command.client, user_id=user.id)
        async with self._mail.begin() as work:
            # Only over the password just checked: a reset or "this wasn't me" while this
            # one was hashed wins, and the caller's session has ended with it.
            replaced = await work.accounts.replace_password(
                user.id, user.password_hash, password_hash, now, told=changed
            )
            if replaced:
                await work.tokens.discard(user.id, MailKind.RESET_PASSWORD, now)
                notice = self._queue.notice(user, Notice.PASSWORD_CHANGED)
                await work.outbox.enqueue(notice, due_at=now)
        if not replaced:
            audit_event(
                self._audit,
                "password_change_failed",
                command.client,
                user_id=user.id,
                reason="password_changed",
            )
            raise InvalidCredentials()
        await self._revoker.revoke_all(
            user.id, command.caller.session_id, command.client, reason="password_changed"
        )
        await self._throttle.login_succeeded(user.email, command.client)
        self._audit.record(changed)


@dataclass(frozen=True, slots=True, kw_only=True)
class SetPasswordCommand:
    caller: AccessClaims
    new_password: str
    client: ClientInfo


class SetPassword:
    """A first password for an account that has none (a passkey-first or provider account).
    A sensitive action (step-up: the recent, two-factor proof stands in for the current
    password, OWASP ASVS 5.0 V7.5.1); otherwise as a change: the password rules and the
    breach check, a notice mail, the ``password.changed`` webhook, every other session ends
    (ASVS 5.0 V7.4.3)."""

    def __init__(
        self,
        *,
        step_up: StepUp,
        mail: MailUnitOfWork,
        hasher: PasswordHasher,
        revoker: SessionRevoker,
        queue: MailQueue,
        clock: Clock,
        audit: AuditLog,
        breaches: BreachedPasswordCheck,
    ) -> None:
        self._step_up = step_up
        self._mail = mail
        self._hasher = hasher
        self._revoker = revoker
        self._queue = queue
        self._clock = clock
        self._audit = audit
        self._breaches = breaches

    async def execute(self, command: SetPasswordCommand) -> None:
        user = await self._step_up.user(command.caller)
        if user.password_hash is not None:
            raise PasswordAlreadySet()
        password_hash = await new_password_hash(
            command.new_password,
            breaches=self._breaches,
            hasher=self._hasher,
            client=command.client,
            user_id=user.id,
        )
        now = self._clock.now()
        password_set = change_event("password_set", command.client, user_id=user.id)
        async with self._mail.begin() as work:
            if not await work.accounts.replace_password(
                user.id, None, password_hash, now, password_set
            ):
                raise PasswordAlreadySet()  # set by a concurrent request meanwhile
            await work.tokens.discard(user.id, MailKind.RESET_PASSWORD, now)
            await work.outbox.enqueue(self._queue.notice(user, Notice.PASSWORD_SET), due_at=now)
        await self._revoker.revoke_all(
            user.id, command.caller.session_id, command.client, reason="password_set"
        )
        self._audit.record(password_set)
