from __future__ import annotations

from dataclasses import dataclass

from application.caller_session import CallerSession
from application.client import ClientInfo, audit_event, change_event
from application.email.queue import MailQueue
from application.email.tokens import TOKEN_MAX, digest
from application.mfa.planted import MailboxProof
from application.revocation import SessionRevoker
from application.throttle import Throttle
from domain.entities import User
from domain.errors import EmailAlreadyVerified, InvalidAccessToken, InvalidVerificationToken
from domain.ports import AccessClaims, AuditLog, Clock, MailKind, MailUnitOfWork, UserRepository


@dataclass(frozen=True, slots=True, kw_only=True)
class RequestVerificationCommand:
    caller: AccessClaims
    client: ClientInfo


class RequestVerification:
    """Another verification mail for the signed-in user (register already sent one)."""

    def __init__(
        self, *, users: UserRepository, queue: MailQueue, throttle: Throttle, audit: AuditLog
    ) -> None:
        self._users = users
        self._queue = queue
        self._throttle = throttle
        self._audit = audit

    async def execute(self, command: RequestVerificationCommand) -> None:
        user = await self._users.get(command.caller.user_id)
        if user is None:
            raise InvalidAccessToken()
        if user.email_verified:
            raise EmailAlreadyVerified()
        await self._throttle.verification(user.id, command.client)
        await self._queue.send(user, MailKind.VERIFY_EMAIL)
        audit_event(self._audit, "verification_mail_queued", command.client, user_id=user.id)


@dataclass(frozen=True, slots=True, kw_only=True)
class VerifyEmailCommand:
    token: str
    client: ClientInfo
    # The caller's own session, if it sent one: it stays, every other one ends.
    refresh_token: str | None = None
    bearer_token: str | None = None


class VerifyEmail:
    def __init__(
        self,
        *,
        mail: MailUnitOfWork,
        caller_session: CallerSession,
        revoker: SessionRevoker,
        proof: MailboxProof,
        clock: Clock,
        audit: AuditLog,
    ) -> None:
        self._mail = mail
        self._caller_session = caller_session
        self._revoker = revoker
        self._proof = proof
        self._clock = clock
        self._audit = audit

    async def execute(self, command: VerifyEmailCommand) -> User:
        if not command.token or len(command.token) > TOKEN_MAX:
            raise InvalidVerificationToken()
        token_hash, now = digest(command.token), self._clock.now()
        async with self._mail.begin() as work:
            held = await work.tokens.holder(token_hash, MailKind.VERIFY_EMAIL, now)
        if held is None:
            raise InvalidVerificationToken()
        user_id = held.user_id
        caller = await self._caller_session.of(command.refresh_token, command.bearer_token)
        keep = caller.session_id if caller is not None and caller.user_id == user_id else None
        # Every other session (whoever signed up with the address may hold one) ends before
        # the link is spent: should a backend fail on the way, opening the link again
        # finishes it, where a verified address with those sessions live could not be.
        await self._revoker.revoke_all(user_id, keep, command.client, reason="email_verified")
        async with self._mail.begin() as work:
            if await work.tokens.redeem(token_hash, MailKind.VERIFY_EMAIL, now) is None:
                raise InvalidVerificationToken()  # spent meanwhile
            verified = change_event("email_verified", command.client, user_id=user_id)
            await work.accounts.mark_verified(user_id, now, verified)
        user = await self._proof.proven(user_id, keep, command.client, reason="email_verified")
        if user is None:  # deleted in between; its tokens went with it
            raise InvalidVerificationToken()
        self._audit.record(verified)
        return user
