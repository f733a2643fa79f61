"""The email use cases, wired from the same ports as every other use case."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from application.email.change import ChangePassword
from application.email.queue import MailQueue
from application.email.recovery import ForgotPassword, ResetPassword
from application.email.sender import DeliveryPolicy, OutboxSender
from application.email.verification import RequestVerification, VerifyEmail
from application.revocation import SessionRevoker
from application.throttle import Throttle

if TYPE_CHECKING:
    from application.wiring import Ports


@dataclass(frozen=True, slots=True, kw_only=True)
class EmailCases:
    request_verification: RequestVerification
    verify_email: VerifyEmail
    forgot_password: ForgotPassword
    reset_password: ResetPassword
    change_password: ChangePassword
    sender: OutboxSender


def wire_email(
    p: Ports,
    queue: MailQueue,
    throttle: Throttle,
    revoker: SessionRevoker,
    delivery: DeliveryPolicy,
) -> EmailCases:
    return EmailCases(
        request_verification=RequestVerification(
            users=p.users, queue=queue, throttle=throttle, audit=p.audit
        ),
        verify_email=VerifyEmail(users=p.users, mail=p.mail, clock=p.clock, audit=p.audit),
        forgot_password=ForgotPassword(
            users=p.users, queue=queue, captcha=p.captcha, throttle=throttle, audit=p.audit
        ),
        reset_password=ResetPassword(
            mail=p.mail, hasher=p.hasher, revoker=revoker, clock=p.clock, audit=p.audit
        ),
        change_password=ChangePassword(
            users=p.users,
            mail=p.mail,
            hasher=p.hasher,
            revoker=revoker,
            throttle=throttle,
            clock=p.clock,
            audit=p.audit,
        ),
        sender=OutboxSender(
            outbox=p.outbox, mailer=p.mailer, policy=delivery, clock=p.clock, audit=p.audit
        ),
    )
