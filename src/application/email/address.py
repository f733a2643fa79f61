"""A new email address for the account. The address is where every reset link goes, so
changing it is a sensitive action (step-up) and takes two proofs: the signed-in user asks,
and the new mailbox opens the link mailed to it. The old address is told, with a "this
wasn't me" link that gives it back (OWASP ASVS 5.0 V6.3.7: the user is told of a change to
what recovers the account; V7.4.3: every other session ends)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from application.caller_session import CallerSession
from application.client import ClientInfo, audit_event, change_event
from application.email.messages import MailPolicy, compose, duration, masked, outgoing
from application.email.tokens import TOKEN_MAX, digest, new_token
from application.mfa.planted import MailboxProof
from application.revocation import SessionRevoker
from application.step_up import StepUp
from application.throttle import Throttle
from domain.entities import User
from domain.errors import (
    EmailTaken,
    FieldError,
    InvalidVerificationToken,
    ValidationFailed,
)
from domain.ports import (
    AccessClaims,
    AuditLog,
    Clock,
    MailKind,
    MailToken,
    MailUnitOfWork,
    OutgoingMail,
    RefreshGrantStore,
    SessionRepository,
    UserRepository,
)
from domain.values import Email


@dataclass(frozen=True, slots=True, kw_only=True)
class RequestEmailChangeCommand:
    caller: AccessClaims
    email: str
    client: ClientInfo


class RequestEmailChange:
    """Mails a confirmation link to the new address; nothing changes until it is opened.
    Only the last link asked for works, and only while the session that asked lives."""

    def __init__(
        self,
        *,
        step_up: StepUp,
        users: UserRepository,
        mail: MailUnitOfWork,
        throttle: Throttle,
        policy: MailPolicy,
        clock: Clock,
        audit: AuditLog,
    ) -> None:
        self._step_up = step_up
        self._users = users
        self._mail = mail
        self._throttle = throttle
        self._policy = policy
        self._clock = clock
        self._audit = audit

    async def execute(self, command: RequestEmailChangeCommand) -> None:
        user = await self._step_up.user(command.caller)
        try:
            email = Email.parse(command.email).value
        except ValueError as e:
            raise ValidationFailed([FieldError("email", str(e))]) from e
        if email == user.email:
            raise ValidationFailed([FieldError("email", "is already the account's address")])
        # Counted before the look below: past the limit, a taken address is answered like a
        # free one (429), not probed without end.
        await self._throttle.email_change(user.id, command.client)
        token, now = new_token(), self._clock.now()
        # Taken is said as at sign-up (409 there too); confirming checks again.
        if await taken_for(user.id, email, now, users=self._users, mail=self._mail):
            raise EmailTaken()
        async with self._mail.begin() as work:
            await work.tokens.discard(user.id, MailKind.CHANGE_EMAIL, now)
            await work.tokens.issue(
                MailToken(
                    token_hash=digest(token),
                    user_id=user.id,
                    kind=MailKind.CHANGE_EMAIL,
                    expires_at=now + self._policy.ttl(MailKind.CHANGE_EMAIL),
                    email=email,
                    session_id=command.caller.session_id,
                )
            )
            mail = compose(self._policy, MailKind.CHANGE_EMAIL, email, token).about(user.id)
            await work.outbox.enqueue(mail, due_at=now)
        audit_event(
            self._audit,
            "email_change_requested",
            command.client,
            user_id=user.id,
            session_id=command.caller.session_id,
        )


@dataclass(frozen=True, slots=True, kw_only=True)
class ChangeEmailCommand:
    token: str
    client: ClientInfo
    # The caller's own session, if it sent one: it stays, every other one ends.
    refresh_token: str | None = None
    bearer_token: str | None = None


class ChangeEmail:
    """Opens the link mailed to the new address: the account takes it, verified."""

    def __init__(
        self,
        *,
        mail: MailUnitOfWork,
        users: UserRepository,
        grants: RefreshGrantStore,
        sessions: SessionRepository,
        revoker: SessionRevoker,
        caller_session: CallerSession,
        proof: MailboxProof,
        policy: MailPolicy,
        clock: Clock,
        audit: AuditLog,
    ) -> None:
        self._mail = mail
        self._users = users
        self._grants = grants
        self._sessions = sessions
        self._revoker = revoker
        self._caller_session = caller_session
        self._proof = proof
        self._policy = policy
        self._clock = clock
        self._audit = audit

    async def execute(self, command: ChangeEmailCommand) -> User:
        if not command.token or len(command.token) > TOKEN_MAX:
            raise InvalidVerificationToken()
        token_hash, now = digest(command.token), self._clock.now()
        async with self._mail.begin() as work:
            held = await work.tokens.holder(token_hash, MailKind.CHANGE_EMAIL, now)
        if held is None or held.email is None:
            raise InvalidVerificationToken()
        user_id, email = held.user_id, held.email
        if held.session_id is None or not await self._grants.with_grants([held.session_id]):
            # The session that asked ended (signed out everywhere, a reset, "this wasn't
            # me"): whoever held it may have been an intruder, and a change they asked
            # for must not move the account's mail to their address after the owner
            # took it back.
            audit_event(
                self._audit,
                "email_change_failed",
                command.client,
                user_id=user_id,
                reason="session_ended",
            )
            raise InvalidVerificationToken()
        changed = change_event("email_changed", command.client, user_id=user_id)
        # The way back undoes what anyone signed in at the change, or in the week before,
        # could have added: the asking session may have signed in with a passkey planted
        # from another one that no notice reported (a stolen one, the owner's own device),
        # and ended since by the intruder, who chooses which sessions are live.
        live = await self._sessions.list_live(user_id, now)
        floor = now - self._policy.ttl(MailKind.RESTORE_EMAIL)
        since = min((session.created_at for session in live), default=floor)
        since = min(since, floor)
        # Taken since it was asked for: said before anything ends (the change checks again).
        if await taken_for(user_id, email, now, users=self._users, mail=self._mail):
            raise EmailTaken()
        caller = await self._caller_session.of(command.refresh_token, command.bearer_token)
        keep = caller.session_id if caller is not None and caller.user_id == user_id else None
        # Every other session ends before the link is spent: should a backend fail on the
        # way, nothing is half-done that opening the link again cannot finish (a moved
        # address with the other sessions still live would be).
        await self._revoker.revoke_all(user_id, keep, command.client, reason="email_changed")
        secure = new_token()
        async with self._mail.begin() as work:
            if await work.tokens.redeem(token_hash, MailKind.CHANGE_EMAIL, now) is None:
                raise InvalidVerificationToken()  # spent meanwhile
            previous = await work.accounts.change_email(user_id, email, now, changed)
            if previous is None:  # the account is gone; its tokens went with it
                raise InvalidVerificationToken()
            # Links mailed to the old address die with it: a reset link there would take
            # the account back from the new mailbox without a word to it.
            await work.tokens.discard(user_id, MailKind.RESET_PASSWORD, now)
            await work.tokens.discard(user_id, MailKind.VERIFY_EMAIL, now)
            if previous.verified:
                # The old address is told, with the way back (7 days, as a new-device
                # notice's), which keeps it meanwhile. An address nobody proved gets no
                # mail and is kept for nobody: whoever signed up with someone else's
                # address and moved away must not hold it against its owner.
                await work.tokens.issue(
                    MailToken(
                        token_hash=digest(secure),
                        user_id=user_id,
                        kind=MailKind.RESTORE_EMAIL,
                        expires_at=now + self._policy.ttl(MailKind.RESTORE_EMAIL),
                        email=previous.email,
                        since=since,
                    )
                )
                notice = compose_email_changed(self._policy, previous.email, email, secure)
                notice = notice.about(user_id)
                await work.outbox.enqueue(notice, due_at=now)
        self._audit.record(changed)
        # The new mailbox is proven: factors planted before the address was verified go,
        # and a session begun meanwhile ends too.
        user = await self._proof.proven(user_id, keep, command.client, reason="email_changed")
        if user is None:  # deleted in between
            raise InvalidVerificationToken()
        return user


async def taken_for(
    user_id: int, email: str, now: datetime, *, users: UserRepository, mail: MailUnitOfWork
) -> bool:
    """Whether the address is another account's, or kept for another account's way back:
    the rule the stores keep at every sign-up and change (``HELD_FOR_ANOTHER``), asked
    before anything is done that the refusal would leave half-done."""
    owner = await users.get_by_email(email)
    if owner is not None:
        # The account itself has it when a twin confirmation of the same link won the race:
        # this one then finds its link spent, not the address taken.
        return owner.id != user_id
    async with mail.begin() as work:
        return await work.tokens.holds(email, now, user_id)


def compose_email_changed(
    policy: MailPolicy, previous: str, email: str, token: str
) -> OutgoingMail:
    product, link = policy.product, policy.link(MailKind.RESTORE_EMAIL, token)
    subject = f"Your email address was changed — {product}"
    paragraphs = [
        f"The email address of the {product} account for {previous} was changed to"
        f" {masked(email)}. Its mail, password resets included, goes there from now on.",
        "If this was you, there is nothing to do.",
        "If it was not you, open this link: it gives the account this address back, signs it"
        " out on every device and blocks the password until you choose a new one (a reset"
        " link follows by mail, to this address):",
        link,
        f"The link works once and expires in {duration(policy.ttl(MailKind.RESTORE_EMAIL))}.",
    ]
    return outgoing(previous, subject, paragraphs, product, link=link)
