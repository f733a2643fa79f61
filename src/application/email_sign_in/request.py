"""Asking for a sign-in mail: 202 whatever the address, and the same timing."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from functools import partial

from application.client import ClientInfo, audit_event
from application.email.messages import MailPolicy
from application.email.queue import MailQueue
from application.email.recovery import AfterAnswer
from application.email_sign_in.grants import SignInGrants
from application.email_sign_in.mail import compose_sign_in
from application.throttle import Throttle
from domain.errors import FieldError, StorageUnavailable, ValidationFailed, cause_of
from domain.ports import AuditLog, CaptchaVerifier, UserRepository
from domain.values import Email

log = logging.getLogger("authgate.mail")


@dataclass(frozen=True, slots=True, kw_only=True)
class RequestEmailSignInCommand:
    email: str
    captcha_token: str | None
    client: ClientInfo


@dataclass(frozen=True, slots=True, kw_only=True)
class SignInRequested:
    """``request_id``: what binds the code to this browser (its cookie, or the body for a
    client without cookies); made for every address, known or not, so the answer is the
    same. ``after_answer``: writes the grant and queues its mail, once the answer is out."""

    request_id: str
    after_answer: AfterAnswer | None


class RequestEmailSignIn:
    """OWASP Authentication Cheat Sheet, "Authentication Responses": the answer, its
    headers and its timing say nothing about the address. As at forgot password, the grant
    and the mail are written after the 202 leaves, so a known address costs the request
    what an unknown one does."""

    def __init__(
        self,
        *,
        users: UserRepository,
        grants: SignInGrants,
        queue: MailQueue,
        policy: MailPolicy,
        captcha: CaptchaVerifier,
        throttle: Throttle,
        audit: AuditLog,
        sign_up: bool,
    ) -> None:
        self._users = users
        self._grants = grants
        self._queue = queue
        self._policy = policy
        self._captcha = captcha
        self._throttle = throttle
        self._audit = audit
        self._sign_up = sign_up

    async def execute(self, command: RequestEmailSignInCommand) -> SignInRequested:
        try:
            email = Email.parse(command.email)
        except ValueError as e:
            raise ValidationFailed([FieldError("email", str(e))]) from None
        await self._throttle.mails_asked_from("signin-mail", command.client)
        await self._captcha.verify(command.captcha_token, command.client.ip_address)
        await self._throttle.mails_asked_for("signin-mail", email.value, command.client)
        user = await self._users.get_by_email(email.value)
        audit_event(
            self._audit,
            "email_sign_in_requested",
            command.client,
            user_id=user.id if user else None,
            reason=None if user else "unknown_email",
        )
        request_id = self._grants.new_request_id()
        if user is None and not self._sign_up:
            return SignInRequested(request_id=request_id, after_answer=None)
        user_id = user.id if user else None
        return SignInRequested(
            request_id=request_id,
            after_answer=partial(self._mail, request_id, email.value, user_id),
        )

    async def _mail(self, request_id: str, email: str, user_id: int | None) -> None:
        try:
            mailed = await self._grants.open(request_id, email, user_id)
            mail = compose_sign_in(self._policy, email, mailed, new_account=user_id is None)
            await self._queue.enqueue(mail if user_id is None else mail.about(user_id))
        except StorageUnavailable as e:
            log.warning("sign-in mail not queued: %s", cause_of(e))
        except Exception:  # nobody awaits this after the answer: the log must see it
            log.exception("sign-in mail not queued")
