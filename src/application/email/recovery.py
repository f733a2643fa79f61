"""Forgot password (a reset mail, whatever the email) and reset password (with its token)."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from functools import partial

from application.breached_passwords import BreachedPasswordCheck, new_password_hash
from application.client import ClientInfo, audit_event, change_event
from application.email.notices import Notice
from application.email.queue import MailQueue
from application.email.tokens import TOKEN_MAX, digest
from application.mfa.planted import MailboxProof
from application.throttle import Throttle
from domain.entities import User
from domain.errors import (
    FieldError,
    InvalidResetToken,
    StorageUnavailable,
    ValidationFailed,
    cause_of,
)
from domain.ports import (
    AuditLog,
    CaptchaVerifier,
    Clock,
    MailKind,
    MailUnitOfWork,
    PasswordHasher,
    UserRepository,
)
from domain.values import Email

log = logging.getLogger("authgate.mail")

AfterAnswer = Callable[[], Awaitable[None]]


@dataclass(frozen=True, slots=True, kw_only=True)
class ForgotPasswordCommand:
    email: str
    captcha_token: str | None
    client: ClientInfo


class ForgotPassword:
    """OWASP Forgot Password Cheat Sheet: the same answer and similar timing for a known and
    an unknown email (no account enumeration); the mail is only queued here, never sent."""

    def __init__(
        self,
        *,
        users: UserRepository,
        queue: MailQueue,
        captcha: CaptchaVerifier,
        throttle: Throttle,
        audit: AuditLog,
    ) -> None:
        self._users = users
        self._queue = queue
        self._captcha = captcha
        self._throttle = throttle
        self._audit = audit

    async def execute(self, command: ForgotPasswordCommand) -> AfterAnswer | None:
        """What to do once the answer is out: queue the reset mail of a known address."""
        try:
            email = Email.parse(command.email)
        except ValueError as e:
            raise ValidationFailed([FieldError("email", str(e))]) from None
        await self._throttle.mails_asked_from("forgot", command.client)
        await self._captcha.verify(command.captcha_token, command.client.ip_address)
        await self._throttle.mails_asked_for("forgot", email.value, command.client)
        user = await self._users.get_by_email(email.value)
        audit_event(
            self._audit,
            "password_reset_requested",
            command.client,
            user_id=user.id if user else None,
            reason=None if user else "unknown_email",
        )
        # The token and its mail are written after the 202 goes out, so a known address
        # costs the request what an unknown one does (OWASP Forgot Password Cheat Sheet: no
        # enumeration by timing). Should the database fail then, asking again sends another.
        # An account without a password gets a mail too: this is how it sets one.
        return None if user is None else partial(self._queue_reset, user)

    async def _queue_reset(self, user: User) -> None:
        try:
            if not await self._queue.send(user, MailKind.RESET_PASSWORD):
                log.info("reset mail not queued for user %s: its address changed", user.id)
        except StorageUnavailable as e:
            log.warning("reset mail not queued for user %s: %s", user.id, cause_of(e))
        except Exception:  # nobody awaits this after the answer: the log must see it
            log.exception("reset mail not queued for user %s", user.id)


@dataclass(frozen=True, slots=True, kw_only=True)
class ResetPasswordCommand:
    token: str
    new_password: str
    client: ClientInfo


class ResetPassword:
    def __init__(
        self,
        *,
        mail: MailUnitOfWork,
        hasher: PasswordHasher,
        proof: MailboxProof,
        queue: MailQueue,
        clock: Clock,
        audit: AuditLog,
        breaches: BreachedPasswordCheck,
    ) -> None:
        self._breaches = breaches
        self._mail = mail
        self._hasher = hasher
        self._proof = proof
        self._queue = queue
        self._clock = clock
        self._audit = audit

    async def execute(self, command: ResetPasswordCommand) -> None:
        if not command.token or len(command.token) > TOKEN_MAX:
            raise InvalidResetToken()
        # Before the token is spent, so a refused password leaves the link working.
        password_hash = await new_password_hash(
            command.new_password,
            breaches=self._breaches,
            hasher=self._hasher,
            client=command.client,
            user_id=None,
        )
        now = self._clock.now()
        async with self._mail.begin() as work:
            user_id = await work.tokens.redeem(digest(command.token), MailKind.RESET_PASSWORD, now)
            if user_id is None:
                raise InvalidResetToken()
            # The mail proved the address; every other reset link dies with this one, and
            # so does an address change under way (every session ends below, the one that
            # asked for it too, whoever held it).
            reset = change_event("password_reset", command.client, user_id=user_id)
            await work.accounts.set_password(user_id, password_hash, now, verified=True, told=reset)
            await work.tokens.discard(user_id, MailKind.RESET_PASSWORD, now)
            await work.tokens.discard(user_id, MailKind.CHANGE_EMAIL, now)
        # OWASP Forgot Password Cheat Sheet: after a reset, end every session (refresh grants
        # and, through the denylist, access tokens at once); factors planted before the
        # mailbox was proven go too.
        user = await self._proof.proven(user_id, None, command.client, credentials_replaced_at=now)
        self._audit.record(reset)
        if user is not None:
            await self._queue.notify(user, Notice.PASSWORD_CHANGED)
