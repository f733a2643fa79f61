from __future__ import annotations

from dataclasses import dataclass, replace

from application.breached_passwords import BreachedPasswordCheck
from application.client import ClientInfo, change_event
from application.compensation import quietly
from application.email.queue import MailQueue
from application.session_issuer import SessionIssuer, SignedIn
from application.throttle import Throttle
from domain import assurance
from domain.entities import DEFAULT_ROLE, NewUser, User
from domain.errors import EmailTaken, FieldError, StorageUnavailable, ValidationFailed
from domain.ports import (
    AuditEvent,
    AuditLog,
    CaptchaVerifier,
    Clock,
    MailKind,
    PasswordHasher,
    UserRepository,
)
from domain.values import Email, name_problems, password_problems


@dataclass(frozen=True, slots=True, kw_only=True)
class RegisterCommand:
    email: str
    password: str
    name: str | None
    captcha_token: str | None
    client: ClientInfo


@dataclass(frozen=True, slots=True, kw_only=True)
class AwaitingVerification:
    """Registered, but no session until the email is verified (AUTH_REQUIRE_VERIFIED_EMAIL)."""

    user: User


class AccountOpening:
    """What every sign-up does once its account is written: the verification mail, then the
    first session (none while AUTH_REQUIRE_VERIFIED_EMAIL waits for the mail)."""

    def __init__(
        self,
        *,
        users: UserRepository,
        issuer: SessionIssuer,
        mail: MailQueue,
        require_verified: bool,
        audit: AuditLog,
    ) -> None:
        self._users = users
        self._issuer = issuer
        self._mail = mail
        self._require_verified = require_verified
        self._audit = audit

    def registered(self, client: ClientInfo, **audited: object) -> AuditEvent:
        """The sign-up's event (``user_registered``), for the port that writes the account:
        its activity row is written in that transaction, naming the first session (its id
        drawn here) when the sign-up starts one."""
        session_id = None if self._require_verified else self._issuer.new_session_id()
        return change_event("user_registered", client, session_id=session_id, **audited)

    async def opened(
        self, user: User, client: ClientInfo, amr: tuple[str, ...], registered: AuditEvent
    ) -> SignedIn | AwaitingVerification:
        """``registered``: the event ``registered`` made, written with the account."""
        registered = replace(registered, user_id=user.id)
        try:
            await self._mail.send(user, MailKind.VERIFY_EMAIL)
            if registered.session_id is None:
                self._audit.record(registered)
                return AwaitingVerification(user=user)
            tokens = await self._issuer.start(user, client, amr, session_id=registered.session_id)
        except StorageUnavailable:
            # Nothing half-written: an account nobody received tokens for is undone (with
            # whatever its rows own, by the database's cascade).
            await quietly(self._users.remove(user.id))
            raise
        self._audit.record(registered)
        return SignedIn(user=user, tokens=tokens)


class RegisterUser:
    def __init__(
        self,
        *,
        users: UserRepository,
        hasher: PasswordHasher,
        captcha: CaptchaVerifier,
        opening: AccountOpening,
        throttle: Throttle,
        clock: Clock,
        breaches: BreachedPasswordCheck,
    ) -> None:
        self._breaches = breaches
        self._throttle = throttle
        self._users = users
        self._hasher = hasher
        self._captcha = captcha
        self._opening = opening
        self._clock = clock

    async def execute(self, command: RegisterCommand) -> SignedIn | AwaitingVerification:
        await self._throttle.register(command.client)
        await self._captcha.verify(command.captcha_token, command.client.ip_address)
        email = _validated(command)
        if await self._users.get_by_email(email.value) is not None:
            raise EmailTaken()
        await self._breaches.refuse(command.password, command.client, user_id=None)
        password_hash = await self._hasher.hash(command.password)
        registered = self._opening.registered(command.client)
        user = await self._users.add(
            NewUser(
                email=email.value,
                password_hash=password_hash,
                name=command.name,
                role=DEFAULT_ROLE,
                created_at=self._clock.now(),
            ),
            registered,
        )
        return await self._opening.opened(user, command.client, assurance.PASSWORD, registered)


def _validated(command: RegisterCommand) -> Email:
    errors: list[FieldError] = []
    email: Email | None = None
    try:
        email = Email.parse(command.email)
    except ValueError as e:
        errors.append(FieldError("email", str(e)))
    errors += password_problems(command.password)
    errors += name_problems(command.name)
    if errors or email is None:
        raise ValidationFailed(errors)
    return email
