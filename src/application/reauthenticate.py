"""Proving it again: the signed-in user shows a password (with the app's code when the
account has one) or a passkey, and the caller's session carries a fresh proof without a
new session (RFC 9470 step-up; OWASP ASVS 5.0 V7.5: re-authentication before sensitive
actions). Wrong proofs are limited and audited as a login's are.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from application.client import ClientInfo, audit_event, change_event
from application.mfa import codes
from application.mfa.enrolment import signed_in_user
from application.mfa.factors import SecondFactors
from application.mfa.passkey_sign_in import PasskeyAssertions
from application.session_issuer import SessionIssuer
from application.throttle import Throttle
from domain import assurance
from domain.assurance import Assurance
from domain.entities import User
from domain.errors import (
    FieldError,
    InvalidAccessToken,
    InvalidCredentials,
    InvalidMfaCode,
    InvalidPasskey,
    ValidationFailed,
)
from domain.ports import (
    AccessClaims,
    AuditLog,
    Clock,
    Credential,
    PasswordHasher,
    RefreshGrantStore,
    UserRepository,
)
from domain.values import PASSWORD_MAX

_KIND = "reauth"  # the passkey challenges of a re-authentication, kept apart from sign-ins
FAILED = "reauthentication_failed"


class StartPasskeyReauthentication:
    """A passkey challenge for the caller: only a passkey of this account will answer it."""

    def __init__(
        self, *, users: UserRepository, assertions: PasskeyAssertions, throttle: Throttle
    ) -> None:
        self._users = users
        self._assertions = assertions
        self._throttle = throttle

    async def execute(self, caller: AccessClaims, client: ClientInfo) -> Mapping[str, Any]:
        user = await signed_in_user(self._users, caller)
        await self._throttle.sign_in_begun(client)
        return await self._assertions.challenge(_KIND, str(user.id).encode())


@dataclass(frozen=True, slots=True, kw_only=True)
class ReauthenticateCommand:
    caller: AccessClaims
    client: ClientInfo
    password: str | None = None
    code: str | None = None
    recovery_code: str | None = None
    credential: Credential | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class Reauthenticated:
    access_token: str
    expires_in: int
    assurance: Assurance


class Reauthenticate:
    def __init__(
        self,
        *,
        users: UserRepository,
        hasher: PasswordHasher,
        factors: SecondFactors,
        assertions: PasskeyAssertions,
        grants: RefreshGrantStore,
        issuer: SessionIssuer,
        throttle: Throttle,
        clock: Clock,
        audit: AuditLog,
    ) -> None:
        self._users = users
        self._hasher = hasher
        self._factors = factors
        self._assertions = assertions
        self._grants = grants
        self._issuer = issuer
        self._throttle = throttle
        self._clock = clock
        self._audit = audit

    async def execute(self, command: ReauthenticateCommand) -> Reauthenticated:
        second = _shape(command)  # malformed input costs no try and writes nothing
        user = await signed_in_user(self._users, command.caller)
        if command.credential is not None:
            amr = await self._passkey(user, command.credential, command.client)
        else:
            amr = await self._password(user, command, second)
        caller = command.caller
        proven = Assurance(self._clock.now(), amr)
        # The session's grant carries the proof, so its next refresh keeps it; a session
        # ended meanwhile has no grant and gets no token.
        if not await self._grants.reassure(caller.session_id, proven):
            raise InvalidAccessToken()
        audit_event(
            self._audit,
            "reauthenticated",
            command.client,
            user_id=user.id,
            session_id=caller.session_id,
            method=proven.stored_amr(),
        )
        return Reauthenticated(
            access_token=self._issuer.access_token(
                user.id, user.role, caller.session_id, proven.auth_time, proven
            ),
            expires_in=self._issuer.access_ttl_seconds,
            assurance=proven,
        )

    async def _passkey(
        self, user: User, credential: Credential, client: ClientInfo
    ) -> tuple[str, ...]:
        passkey, record = await self._assertions.verify(credential, _KIND, client, FAILED)
        # Asked for by this user, answered by a passkey of this user: nobody else's passkey
        # (or challenge) proves this caller.
        if record != str(user.id).encode() or passkey.user_id != user.id:
            audit_event(self._audit, FAILED, client, user_id=user.id, reason="passkey_other_user")
            raise InvalidPasskey()
        return assurance.PASSKEY

    async def _password(
        self, user: User, command: ReauthenticateCommand, second: tuple[str, str] | None
    ) -> tuple[str, ...]:
        password = command.password or ""
        await self._throttle.login(user.email, command.client)
        if (
            user.password_hash is None
            or len(password) > PASSWORD_MAX
            or not await self._hasher.verify(user.password_hash, password)
        ):
            audit_event(
                self._audit, FAILED, command.client, user_id=user.id, reason="wrong_password"
            )
            raise InvalidCredentials("The password is not right.")
        app = await self._factors.active(user.id)
        amr = assurance.PASSWORD
        if app is None:
            if second is not None:
                field = codes.FIELD[second[0]]
                raise ValidationFailed([FieldError(field, "this account has no app")])
        elif second is None:
            raise ValidationFailed(
                [FieldError("code", "this account has an authenticator app: send its code")]
            )
        else:
            await self._throttle.second_factor(user.email, command.client)
            used = change_event("recovery_code_used", command.client, user_id=user.id)
            completed = await self._factors.completes(user.id, second, assurance.PASSWORD, used)
            if completed is None:
                audit_event(self._audit, "mfa_failed", command.client, user_id=user.id)
                raise InvalidMfaCode()
            amr = completed
            if second[0] == codes.RECOVERY:
                self._audit.record(used)
        await self._throttle.login_succeeded(user.email, command.client)
        return amr


def _shape(command: ReauthenticateCommand) -> tuple[str, str] | None:
    """The second factor sent with a password, if any; refuses every other mix."""
    if (command.credential is None) == (command.password is None):
        raise ValidationFailed([FieldError("password", "send either password or credential")])
    second = codes.second_code(command.code, command.recovery_code)
    if command.credential is not None and second is not None:
        raise ValidationFailed([FieldError("credential", "a passkey needs no code")])
    return second
