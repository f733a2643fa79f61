"""The account is its user's: everything kept about it, to take along (GDPR Art. 15 and
Art. 20), and the account gone at its owner's word (Art. 17). Both need a recent proof of
the user (step-up; OWASP ASVS 5.0 V7.5.1): an access token alone, stolen or left open,
neither reads the whole account out nor erases it."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from application.activity import ActivityRecorder, everything
from application.admin.commands import keep_an_admin
from application.client import ClientInfo, audit_event
from application.email.queue import MailQueue
from application.erasure import AccountEraser
from application.step_up import StepUp
from domain.entities import ExternalIdentity, Passkey, Session, TotpCredential, User
from domain.ports import (
    AccessClaims,
    Activity,
    AuditLog,
    Clock,
    MailHistory,
    Passkeys,
    SecurityActivity,
    SentMail,
    SessionRepository,
    TotpCredentials,
    UserAdministration,
)


@dataclass(frozen=True, slots=True, kw_only=True)
class AccountExport:
    """What the service keeps about one user, without a hash, secret, token or key."""

    at: datetime
    user: User
    identities: list[ExternalIdentity]
    sessions: list[Session]
    passkeys: list[Passkey]
    authenticator_app: TotpCredential | None
    activity: list[Activity]
    mails: list[SentMail]


@dataclass(frozen=True, slots=True, kw_only=True)
class AccountCommand:
    caller: AccessClaims
    client: ClientInfo


class ExportAccount:
    def __init__(
        self,
        *,
        step_up: StepUp,
        administration: UserAdministration,
        sessions: SessionRepository,
        passkeys: Passkeys,
        totp: TotpCredentials,
        recorder: ActivityRecorder,
        activity: SecurityActivity,
        mails: MailHistory,
        clock: Clock,
        audit: AuditLog,
    ) -> None:
        self._step_up = step_up
        self._administration = administration
        self._sessions = sessions
        self._passkeys = passkeys
        self._totp = totp
        self._recorder = recorder
        self._activity = activity
        self._mails = mails
        self._clock = clock
        self._audit = audit

    async def execute(self, command: AccountCommand) -> AccountExport:
        user = await self._step_up.user(command.caller)
        audit_event(self._audit, "account_exported", command.client, user_id=user.id)
        await self._recorder.flush()  # the export is in its own activity
        app = await self._totp.get(user.id)
        return AccountExport(
            at=self._clock.now(),
            user=user,
            identities=await self._administration.identities(user.id),
            sessions=await self._sessions.list_live(user.id, self._clock.now()),
            passkeys=await self._passkeys.of_user(user.id),
            authenticator_app=app if app is not None and app.active else None,
            activity=await everything(self._activity, user.id),
            mails=await self._mails.sent_to(user.id),
        )


class DeleteAccount:
    """The user erases their own account, as an administrator's delete does, and the
    address gets a last mail saying so. The last admin stays: nobody would be left."""

    def __init__(
        self,
        *,
        step_up: StepUp,
        administration: UserAdministration,
        eraser: AccountEraser,
        queue: MailQueue,
        audit: AuditLog,
    ) -> None:
        self._step_up = step_up
        self._administration = administration
        self._eraser = eraser
        self._queue = queue
        self._audit = audit

    async def execute(self, command: AccountCommand) -> None:
        user = await self._step_up.user(command.caller)
        await keep_an_admin(self._administration, user.id)
        await self._eraser.erase(user.id, command.client, self._queue.farewell(user))
        audit_event(self._audit, "account_deleted", command.client, user_id=user.id)
