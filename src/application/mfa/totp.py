"""An authenticator app (RFC 6238 TOTP) for the signed-in user: set up, confirm, new
recovery codes, remove.

Whatever proves the user here (a code, the password) is limited like a login (the account's
tiers, OWASP ASVS V6.3.5): a stolen access token cannot guess its way to the recovery codes
or to removing the second factor."""

from __future__ import annotations

from dataclasses import dataclass

from application.client import ClientInfo, audit_event, change_event
from application.email.notices import Notice
from application.email.queue import MailQueue
from application.mfa import codes
from application.mfa.factors import SecondFactors, secret_context
from application.revocation import SessionRevoker
from application.session_issuer import SessionIssuer
from application.step_up import StepUp
from application.throttle import Throttle
from domain.assurance import Assurance, with_app
from domain.entities import User
from domain.errors import (
    FieldError,
    InvalidAccessToken,
    InvalidCredentials,
    InvalidMfaCode,
    TotpAlreadyEnabled,
    TotpNotEnabled,
    TotpSetupRequired,
    ValidationFailed,
)
from domain.ports import (
    AccessClaims,
    AuditLog,
    Clock,
    OneTimePasswords,
    PasswordHasher,
    RecoveryCodes,
    RefreshGrantStore,
    SecretBox,
    TotpCredentials,
)
from domain.values import PASSWORD_MAX


@dataclass(frozen=True, slots=True, kw_only=True)
class TotpSetup:
    secret: str
    otpauth_uri: str


def _code(raw: str) -> str:
    code = codes.totp_code(raw)
    if code is None:
        raise ValidationFailed([FieldError("code", "must be the app's 6 digits")])
    return code


class SetupTotp:
    def __init__(
        self,
        *,
        step_up: StepUp,
        totp: TotpCredentials,
        box: SecretBox,
        otp: OneTimePasswords,
        clock: Clock,
        issuer_name: str,
    ) -> None:
        self._step_up = step_up
        self._totp = totp
        self._box = box
        self._otp = otp
        self._clock = clock
        self._issuer_name = issuer_name

    async def execute(self, caller: AccessClaims) -> TotpSetup:
        user = await self._step_up.enrolling_user(caller)
        secret = self._otp.new_secret()
        sealed = self._box.seal(secret, secret_context(user.id))
        if not await self._totp.start(user.id, sealed, self._clock.now()):
            raise TotpAlreadyEnabled()
        uri = self._otp.provisioning_uri(secret, account=user.email, issuer=self._issuer_name)
        return TotpSetup(secret=secret, otpauth_uri=uri)


@dataclass(frozen=True, slots=True, kw_only=True)
class TotpCodeCommand:
    caller: AccessClaims
    code: str
    client: ClientInfo


@dataclass(frozen=True, slots=True, kw_only=True)
class AppConfirmed:
    recovery_codes: list[str]
    access_token: str  # the caller's session, aal2 now
    expires_in: int


class ConfirmTotp:
    """The first code proves the app holds the secret; the secret becomes active, and the
    recovery codes are made in the same step (shown this once). Every other session of the
    user ends: they were opened with one factor (OWASP ASVS 5.0 V7.4.3).

    The right code in a recent session is a second factor shown just now: the caller's
    session becomes aal2 (its grant carries the new proof) and gets an access token that
    says so, so the user can go on to a passkey or new codes without signing in again."""

    def __init__(
        self,
        *,
        step_up: StepUp,
        totp: TotpCredentials,
        factors: SecondFactors,
        revoker: SessionRevoker,
        issuer: SessionIssuer,
        grants: RefreshGrantStore,
        queue: MailQueue,
        clock: Clock,
        audit: AuditLog,
    ) -> None:
        self._step_up = step_up
        self._totp = totp
        self._factors = factors
        self._revoker = revoker
        self._issuer = issuer
        self._grants = grants
        self._queue = queue
        self._clock = clock
        self._audit = audit

    async def execute(self, command: TotpCodeCommand) -> AppConfirmed:
        code = _code(command.code)
        user = await self._step_up.enrolling_user(command.caller)
        credential = await self._totp.get(user.id)
        if credential is None:
            raise TotpSetupRequired()
        if credential.active:
            raise TotpAlreadyEnabled()
        step = self._factors.step_of(credential, code)
        shown, digests = self._factors.new_recovery_codes(user.id)
        enabled = change_event("mfa_enabled", command.client, user_id=user.id, reason="totp")
        # A concurrent confirm with the same code found the secret pending too: one wins.
        # Only the secret the code was checked against: a setup in another tab meanwhile
        # replaced the pending one, and activating that would lock the owner's app out.
        if step is None or not await self._totp.activate(
            user.id, credential.sealed_secret, step, digests, self._clock.now(), enabled
        ):
            audit_event(
                self._audit, "mfa_failed", command.client, user_id=user.id, reason="confirm"
            )
            raise InvalidMfaCode()
        self._audit.record(enabled)
        caller = command.caller
        proven = Assurance(self._clock.now(), with_app(caller.assurance.amr))
        if not await self._grants.reassure(caller.session_id, proven):
            # The caller's session ended while the app was confirmed: the app goes again
            # (nobody saw its recovery codes; no factor outlives the session that added it,
            # ASVS 5.0 V6.4.3), and no token is minted for the session.
            gone = change_event(
                "mfa_disabled", command.client, user_id=user.id, reason="session_ended"
            )
            if await self._totp.remove(user.id, self._clock.now(), gone):
                self._audit.record(gone)
            raise InvalidAccessToken()
        await self._revoker.revoke_all(
            user.id, command.caller.session_id, command.client, reason="mfa_enabled"
        )
        await self._queue.factor_added(user, Notice.APP_ADDED, credential.created_at)
        # The new token lives no longer than the caller's: the code proves an app the
        # caller was just given, not the first factor, so a stolen access token cycling
        # setup, confirm and disable never outlives itself.
        until = caller.expires_at
        return AppConfirmed(
            recovery_codes=shown,
            access_token=self._issuer.access_token(
                user.id, user.role, caller.session_id, proven.auth_time, proven, until=until
            ),
            expires_in=max(0, int((until - proven.auth_time).total_seconds())),
        )


class RegenerateRecoveryCodes:
    def __init__(
        self,
        *,
        step_up: StepUp,
        factors: SecondFactors,
        recovery: RecoveryCodes,
        throttle: Throttle,
        clock: Clock,
        audit: AuditLog,
    ) -> None:
        self._step_up = step_up
        self._factors = factors
        self._recovery = recovery
        self._throttle = throttle
        self._clock = clock
        self._audit = audit

    async def execute(self, command: TotpCodeCommand) -> list[str]:
        code = _code(command.code)
        user = await self._step_up.user(command.caller)
        if await self._factors.active(user.id) is None:
            raise TotpNotEnabled()
        await self._throttle.login(user.email, command.client)
        # Counted against the account's daily cap across every IP, as at the second step.
        await self._throttle.second_factor(user.email, command.client)
        if not await self._factors.use_totp(user.id, code):
            audit_event(
                self._audit,
                "mfa_failed",
                command.client,
                user_id=user.id,
                reason="recovery_codes",
            )
            raise InvalidMfaCode()
        shown, digests = self._factors.new_recovery_codes(user.id)
        regenerated = change_event("recovery_codes_regenerated", command.client, user_id=user.id)
        await self._recovery.replace(user.id, digests, self._clock.now(), regenerated)
        await self._throttle.login_succeeded(user.email, command.client)
        self._audit.record(regenerated)
        return shown


@dataclass(frozen=True, slots=True, kw_only=True)
class DisableTotpCommand:
    caller: AccessClaims
    password: str | None
    code: str | None
    client: ClientInfo


class DisableTotp:
    """Removes the app and its recovery codes, for the current password or a current code."""

    def __init__(
        self,
        *,
        step_up: StepUp,
        totp: TotpCredentials,
        factors: SecondFactors,
        hasher: PasswordHasher,
        throttle: Throttle,
        queue: MailQueue,
        audit: AuditLog,
        clock: Clock,
    ) -> None:
        self._step_up = step_up
        self._totp = totp
        self._factors = factors
        self._hasher = hasher
        self._throttle = throttle
        self._queue = queue
        self._audit = audit
        self._clock = clock

    async def execute(self, command: DisableTotpCommand) -> None:
        if (command.password is None) == (command.code is None):
            raise ValidationFailed(
                [FieldError("password", "send either password or code, not both")]
            )
        code = _code(command.code) if command.code is not None else None
        user = await self._step_up.user(command.caller)
        if await self._factors.active(user.id) is None:
            raise TotpNotEnabled()
        await self._throttle.login(user.email, command.client)
        if code is not None:
            # Counted against the account's daily cap across every IP, as at the second step.
            await self._throttle.second_factor(user.email, command.client)
        if code is not None and not await self._factors.use_totp(user.id, code):
            self._failed(command, user, "code")
            raise InvalidMfaCode()
        if command.password is not None and not await self._password_ok(user, command.password):
            self._failed(command, user, "password")
            raise InvalidCredentials()
        disabled = change_event("mfa_disabled", command.client, user_id=user.id, reason="totp")
        if not await self._totp.remove(user.id, self._clock.now(), disabled):
            raise TotpNotEnabled()  # removed meanwhile by another request
        await self._throttle.login_succeeded(user.email, command.client)
        self._audit.record(disabled)
        await self._queue.notify(user, Notice.APP_REMOVED)

    async def _password_ok(self, user: User, password: str) -> bool:
        if user.password_hash is None or len(password) > PASSWORD_MAX:
            return False
        return await self._hasher.verify(user.password_hash, password)

    def _failed(self, command: DisableTotpCommand, user: User, reason: str) -> None:
        audit_event(self._audit, "mfa_failed", command.client, user_id=user.id, reason=reason)
