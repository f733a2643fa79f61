"""The two-step password sign-in: the password opens an ``mfa_token``, a code completes it."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import NoReturn

from application.client import ClientInfo, audit_event, change_event
from application.compensation import quietly
from application.email.breach_notice import BreachNotice
from application.email.notices import Notice
from application.email.queue import MailQueue
from application.mfa import codes
from application.mfa.attempts import MAX_WRONG_CODES, MfaAttempts, Pending
from application.mfa.factors import SecondFactors
from application.session_issuer import PasswordSignIn, SessionIssuer
from application.throttle import Throttle
from domain.entities import ExternalIdentity, User
from domain.errors import (
    FieldError,
    InvalidMfaCode,
    InvalidMfaToken,
    MfaRequired,
    TooManyRequests,
    ValidationFailed,
)
from domain.ports import AuditLog, Clock, Passkeys, UserRepository


class SecondFactorGate:
    """Stops a password sign-in of an account with an active authenticator app."""

    def __init__(
        self, *, factors: SecondFactors, passkeys: Passkeys, attempts: MfaAttempts
    ) -> None:
        self._factors = factors
        self._passkeys = passkeys
        self._attempts = attempts

    async def check(
        self, user: User, first: tuple[str, ...], *, link: ExternalIdentity | None = None
    ) -> None:
        """``first``: the ``amr`` of the factor the user has shown, kept for the second step;
        ``link``: a provider's identity, linked to the account once that step is passed."""
        if await self._factors.active(user.id) is None:
            return
        methods: tuple[str, ...] = ("totp", "recovery_code")
        if await self._passkeys.of_user(user.id):
            methods += ("passkey",)  # a passkey sign-in would do instead
        raise MfaRequired(await self._attempts.open(user, first, link), methods)

    async def password_breached(self, mfa_token: str) -> None:
        await self._attempts.note_password_breached(mfa_token)


@dataclass(frozen=True, slots=True, kw_only=True)
class MfaSignInCommand:
    mfa_token: str
    code: str | None
    recovery_code: str | None
    client: ClientInfo


class CompleteMfaSignIn:
    def __init__(
        self,
        *,
        users: UserRepository,
        factors: SecondFactors,
        attempts: MfaAttempts,
        issuer: SessionIssuer,
        throttle: Throttle,
        queue: MailQueue,
        notice: BreachNotice,
        clock: Clock,
        audit: AuditLog,
    ) -> None:
        self._clock = clock
        self._notice = notice
        self._users = users
        self._factors = factors
        self._attempts = attempts
        self._issuer = issuer
        self._throttle = throttle
        self._queue = queue
        self._audit = audit

    async def execute(self, command: MfaSignInCommand) -> PasswordSignIn:
        # Malformed input costs no try and writes nothing.
        second = codes.second_code(command.code, command.recovery_code)
        if second is None:
            raise ValidationFailed([FieldError("code", "send either code or recovery_code")])
        method = second[0]
        pending = await self._attempts.take(command.mfa_token)
        try:
            # The account's login limits count the code guesses as they count passwords.
            await self._throttle.login(pending.email, command.client)
            await self._within_daily_cap(pending, command.client)
        except TooManyRequests:
            await quietly(self._attempts.give_back(command.mfa_token, pending))
            raise
        user = await self._users.get(pending.user_id)
        if user is None:
            raise InvalidMfaToken()
        if not self._attempts.still_proven(pending, user):
            audit_event(
                self._audit,
                "login_failed",
                command.client,
                user_id=user.id,
                reason="password_changed",
            )
            raise InvalidMfaToken()  # taken above: the attempt is dead
        used = change_event("recovery_code_used", command.client, user_id=user.id)
        amr = await self._factors.completes(user.id, second, pending.first_factor, used)
        if amr is None:
            await self._refuse(command, pending, method)
        if pending.link is not None:
            provider, subject, email = pending.link
            await self._users.link_identity(
                ExternalIdentity(
                    provider=str(provider),
                    subject=str(subject),
                    user_id=user.id,
                    email=email,
                    created_at=self._clock.now(),
                )
            )
        tokens = await self._issuer.start(user, command.client, amr)
        await self._throttle.login_succeeded(pending.email, command.client)
        if method == codes.RECOVERY:
            self._audit.record(used)
        audit_event(
            self._audit,
            "login_succeeded",
            command.client,
            user_id=user.id,
            session_id=tokens.session_id,
            reason=f"mfa:{method}",
        )
        if pending.password_breached:
            await self._notice.signed_in_with_it(user, command.client)
        return PasswordSignIn(user=user, tokens=tokens, password_breached=pending.password_breached)

    async def _within_daily_cap(self, pending: Pending, client: ClientInfo) -> None:
        try:
            await self._throttle.second_factor(pending.email, client)
        except TooManyRequests:
            if await self._throttle.first_code_lock_today(pending.email):
                user = await self._users.get(pending.user_id)
                if user is not None:
                    # ASVS 5.0 V6.3.7: the owner learns someone is guessing their codes.
                    await quietly(self._queue.notify(user, Notice.CODES_LOCKED))
            raise

    async def _refuse(self, command: MfaSignInCommand, pending: Pending, method: str) -> NoReturn:
        wrong = pending.wrong + 1
        audit_event(
            self._audit, "mfa_failed", command.client, user_id=pending.user_id, reason=method
        )
        if wrong >= MAX_WRONG_CODES:
            raise InvalidMfaToken()  # the attempt is dead: sign in with the password again
        await self._attempts.give_back(command.mfa_token, dataclasses.replace(pending, wrong=wrong))
        raise InvalidMfaCode()
