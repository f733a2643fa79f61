from __future__ import annotations

import asyncio
import dataclasses
from dataclasses import dataclass
from typing import NoReturn

from application.breached_passwords import BreachedPasswordCheck
from application.client import ClientInfo, audit_event
from application.email.breach_notice import BreachNotice
from application.mfa.sign_in import SecondFactorGate
from application.session_issuer import PasswordSignIn, SessionIssuer, SignedIn
from application.throttle import Throttle
from domain import assurance
from domain.entities import User
from domain.errors import EmailNotVerified, InvalidCredentials, MfaRequired
from domain.ports import AuditLog, Clock, PasswordHasher, UserRepository
from domain.values import PASSWORD_MAX, Email


@dataclass(frozen=True, slots=True, kw_only=True)
class LoginCommand:
    email: str
    password: str
    client: ClientInfo


class Login:
    def __init__(
        self,
        *,
        users: UserRepository,
        hasher: PasswordHasher,
        issuer: SessionIssuer,
        throttle: Throttle,
        clock: Clock,
        audit: AuditLog,
        second_factor: SecondFactorGate,
        breaches: BreachedPasswordCheck,
        notice: BreachNotice,
        require_verified: bool = False,
    ) -> None:
        self._breaches = breaches
        self._notice = notice
        self._second_factor = second_factor
        self._require_verified = require_verified
        self._users = users
        self._hasher = hasher
        self._issuer = issuer
        self._throttle = throttle
        self._clock = clock
        self._audit = audit
        self._dummy_hash: str | None = None

    async def execute(self, command: LoginCommand) -> PasswordSignIn:
        await self._throttle.login(command.email, command.client)
        if len(command.password) > PASSWORD_MAX:
            # Never hand the hasher an oversized password, known account or not.
            self._failed(command, None, "password_too_long")
        user = await self._find(command.email)
        if user is None or user.password_hash is None:
            # OWASP ASVS V6.3.8 / fastapi-users: an unknown account costs one hash
            # verification too, so status, body and timing do not reveal it.
            await self._hasher.verify(await self._dummy(), command.password)
            self._failed(command, user, "unknown_account" if user is None else "no_password")
        if not await self._hasher.verify(user.password_hash, command.password):
            self._failed(command, user, "wrong_password")
        if self._hasher.needs_rehash(user.password_hash):
            user = await self._rehash(user, user.password_hash, command)
        # OWASP ASVS 5.0 V6.2.12: a breached password still signs in, but its user is told.
        # The range API is asked beside the rest of the sign-in, not before it, and only
        # once the password is right.
        screening = asyncio.create_task(
            self._breaches.found(command.password, command.client, user_id=user.id)
        )
        try:
            signed_in = await self._open_session(user, command)
        except MfaRequired as required:
            # Told at the second step, once it succeeds: the answer waits with the token.
            if await screening:
                await self._second_factor.password_breached(required.mfa_token)
            raise
        except BaseException:
            screening.cancel()
            raise
        breached = await screening
        if breached:
            await self._notice.signed_in_with_it(user, command.client)
        return PasswordSignIn(
            user=signed_in.user, tokens=signed_in.tokens, password_breached=breached
        )

    async def _open_session(self, user: User, command: LoginCommand) -> SignedIn:
        if self._require_verified and not user.email_verified:
            # Only after the password check: the answer reveals nothing to a guesser.
            await self._throttle.login_succeeded(command.email, command.client)
            self._failed(command, user, "email_not_verified", EmailNotVerified())
        # With a second factor the password alone opens no session, and the account's
        # counted attempts stay counted until the second step succeeds.
        await self._second_factor.check(user, assurance.PASSWORD)
        tokens = await self._issuer.start(user, command.client, assurance.PASSWORD)
        await self._throttle.login_succeeded(command.email, command.client)
        audit_event(
            self._audit,
            "login_succeeded",
            command.client,
            user_id=user.id,
            session_id=tokens.session_id,
        )
        return SignedIn(user=user, tokens=tokens)

    async def _find(self, raw_email: str) -> User | None:
        try:
            email = Email.parse(raw_email)
        except ValueError:
            return None
        return await self._users.get_by_email(email.value)

    async def _rehash(self, user: User, verified: str, command: LoginCommand) -> User:
        new_hash = await self._hasher.hash(command.password)
        await self._users.rehash_password(user.id, verified, new_hash, self._clock.now())
        audit_event(self._audit, "password_rehashed", command.client, user_id=user.id)
        return dataclasses.replace(user, password_hash=new_hash)

    async def _dummy(self) -> str:
        if self._dummy_hash is None:
            self._dummy_hash = await self._hasher.hash("timing-equaliser-not-a-password")
        return self._dummy_hash

    def _failed(
        self,
        command: LoginCommand,
        user: User | None,
        reason: str,
        error: Exception | None = None,
    ) -> NoReturn:
        audit_event(
            self._audit,
            "login_failed",
            command.client,
            user_id=user.id if user else None,
            reason=reason,
        )
        raise error or InvalidCredentials()
