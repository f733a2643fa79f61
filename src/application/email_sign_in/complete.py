"""Signing in with the mailed code (in the browser that asked) or the mailed link (anywhere)."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import NoReturn

from application.client import ClientInfo, audit_event, change_event
from application.compensation import quietly
from application.email.tokens import TOKEN_MAX
from application.email_sign_in.grants import CODE, MAX_WRONG_CODES, Grant, SignInGrants
from application.mfa.planted import MailboxProof
from application.mfa.sign_in import SecondFactorGate
from application.session_issuer import SessionIssuer, SignedIn
from application.throttle import Throttle
from domain import assurance
from domain.entities import DEFAULT_ROLE, NewUser, User
from domain.errors import (
    DomainError,
    EmailTaken,
    FieldError,
    InvalidEmailCode,
    InvalidEmailLink,
    TooManyRequests,
    ValidationFailed,
)
from domain.ports import AuditLog, Clock, MailUnitOfWork, UserRepository
from domain.values import Email


@dataclass(frozen=True, slots=True, kw_only=True)
class EmailSignInCommand:
    """Either ``email`` and ``code`` (with the ``request_id`` the asking browser holds) or
    ``token`` (the link's)."""

    client: ClientInfo
    email: str | None = None
    code: str | None = None
    request_id: str | None = None
    token: str | None = None


class EmailSignIn:
    def __init__(
        self,
        *,
        users: UserRepository,
        grants: SignInGrants,
        mail: MailUnitOfWork,
        proof: MailboxProof,
        second_factor: SecondFactorGate,
        issuer: SessionIssuer,
        throttle: Throttle,
        clock: Clock,
        audit: AuditLog,
    ) -> None:
        self._users = users
        self._grants = grants
        self._mail = mail
        self._proof = proof
        self._second_factor = second_factor
        self._issuer = issuer
        self._throttle = throttle
        self._clock = clock
        self._audit = audit

    async def execute(self, command: EmailSignInCommand) -> SignedIn:
        if command.token is not None:
            if command.code is not None:
                raise ValidationFailed([FieldError("token", "send either code or token")])
            grant, method = await self._by_link(command), "email_link"
        else:
            grant, method = await self._by_code(command), "email_code"
        refused = InvalidEmailLink() if command.token is not None else InvalidEmailCode()
        user = await self._account(grant, command.client, refused)
        await self._second_factor.check(user, assurance.EMAIL_CODE)
        tokens = await self._issuer.start(user, command.client, assurance.EMAIL_CODE)
        await self._throttle.login_succeeded(grant.email, command.client)
        audit_event(
            self._audit,
            "login_succeeded",
            command.client,
            user_id=user.id,
            session_id=tokens.session_id,
            reason=method,
        )
        return SignedIn(user=user, tokens=tokens)

    async def _by_code(self, command: EmailSignInCommand) -> Grant:
        email, code = _email_and_code(command)
        # Each try counts against the account's login limits, as a password would.
        await self._throttle.login(email, command.client)
        grant = await self._grants.take_by_code(command.request_id)
        if grant is None or command.request_id is None:
            self._refused(command, None, "unknown_email_code")
        # A try at a mailed code also counts against the account's daily cap of them from
        # every IP: five mails an hour, five tries each, would be 600 guesses a day from
        # enough addresses (NIST SP 800-63B §5.2.2: at most 100 failed attempts on one
        # account). Only a try at a code that was mailed counts: one without any (no mail,
        # no request id) guesses nothing and must not use up the owner's day; the cap is
        # the mailed codes' own, so the app's second step is never locked by it. It is the
        # cap of the address the code went to: a try with another address typed is a wrong
        # try at this code, never one at the other address's (which got no mail).
        try:
            await self._throttle.mailed_code(grant.email, command.client)
        except TooManyRequests:
            await quietly(self._grants.give_back(command.request_id, grant))
            raise
        if grant.email != email or not self._grants.code_matches(grant, command.request_id, code):
            await self._wrong(command, command.request_id, grant)
        return grant

    async def _wrong(self, command: EmailSignInCommand, request_id: str, grant: Grant) -> NoReturn:
        wrong = grant.wrong + 1
        if wrong < MAX_WRONG_CODES:
            await quietly(
                self._grants.give_back(request_id, dataclasses.replace(grant, wrong=wrong))
            )
        # The fifth wrong code leaves the grant taken: ask for a new mail.
        self._refused(command, grant.user_id, "wrong_email_code")

    async def _by_link(self, command: EmailSignInCommand) -> Grant:
        token = command.token or ""
        await self._throttle.email_link(command.client)
        grant = await self._grants.take_by_link(token) if 0 < len(token) <= TOKEN_MAX else None
        if grant is None:
            audit_event(self._audit, "login_failed", command.client, reason="unknown_email_link")
            raise InvalidEmailLink()
        return grant

    async def _account(self, grant: Grant, client: ClientInfo, refused: DomainError) -> User:
        """The grant's account, its mailbox now proven; with AUTH_EMAIL_SIGNUP, a new one."""
        if grant.user_id is None:
            user = await self._created(grant, client)
        else:
            user = await self._users.get(grant.user_id)
        if user is None or user.email != grant.email:
            # Deleted since the mail went out, or its address changed: a code or link mailed
            # to the old address proves that mailbox, not the account's.
            raise refused
        if user.email_verified:
            return user
        now = self._clock.now()
        dropped = (
            change_event("unverified_credentials_dropped", client, user_id=user.id)
            if user.password_hash is not None
            else None
        )
        verified = change_event("email_verified", client, user_id=user.id)
        async with self._mail.begin() as work:
            # Whoever registered the address without owning it set this password: the
            # mailbox's owner is here now, and it goes, as at a provider's takeover of an
            # unverified account (spec "Account linking"; OWASP ASVS 5.0 V6.4.3).
            await work.accounts.set_password(user.id, None, now, verified=False, told=dropped)
            await work.accounts.mark_verified(user.id, now, verified)
        if dropped is not None:
            self._audit.record(dropped)
        # The mailbox's owner signs in without whatever the unverified account was given: a
        # passkey set up with it goes with the password, as at a reset (pre-registration
        # takeover; OWASP ASVS 5.0 V6.4.3).
        proven = await self._proof.proven(
            user.id, None, client, reason="email_verified", credentials_replaced_at=now
        )
        if proven is None:
            raise refused
        self._audit.record(verified)
        return proven

    async def _created(self, grant: Grant, client: ClientInfo) -> User | None:
        now = self._clock.now()
        registered = change_event("user_registered", client, reason="email_code")
        try:
            user = await self._users.add(
                NewUser(
                    email=grant.email,
                    password_hash=None,
                    name=None,
                    role=DEFAULT_ROLE,
                    created_at=now,
                ),
                registered,
            )
        except EmailTaken:  # registered meanwhile: the mailbox proves that account too
            return await self._users.get_by_email(grant.email)
        self._audit.record(dataclasses.replace(registered, user_id=user.id))
        return user

    def _refused(self, command: EmailSignInCommand, user_id: int | None, reason: str) -> NoReturn:
        audit_event(self._audit, "login_failed", command.client, user_id=user_id, reason=reason)
        raise InvalidEmailCode()


def _email_and_code(command: EmailSignInCommand) -> tuple[str, str]:
    errors: list[FieldError] = []
    try:
        email = Email.parse(command.email or "").value
    except ValueError as e:
        errors.append(FieldError("email", str(e)))
    code = (command.code or "").strip()
    if not CODE.fullmatch(code):
        errors.append(FieldError("code", "must be the 6 digits of the mail"))
    if errors:
        raise ValidationFailed(errors)
    return email, code
