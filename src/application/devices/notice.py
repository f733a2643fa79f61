"""A sign-in from a device the account has not used before mails its owner: when, from
where, with what, how, and a one-click "this wasn't me" (OWASP ASVS 5.0 V6.3.7: users are
told of suspicious authentication attempts; V6.3.5).

A device is the ``device`` cookie the service sets at every sign-in (HttpOnly, long-lived:
a browser that keeps it is known), or ``X-Device-Id`` from a client without cookies; only
its SHA-256 is stored. The first device an account is seen on is not news: registration, a
sign-up by code, or the first sign-in after this feature arrived, are the baseline the next
devices are compared with, so nobody is mailed about the sign-up they just made.
"""

from __future__ import annotations

import logging
import re
import secrets
from datetime import datetime, timedelta

from application.client import ClientInfo, audit_event
from application.devices.described import device_of
from application.email.messages import MailPolicy, duration, outgoing
from application.email.queue import MailQueue
from application.email.tokens import digest
from domain.entities import User
from domain.errors import StorageUnavailable, cause_of
from domain.ports import (
    AuditLog,
    Clock,
    DeviceSeen,
    KnownDevices,
    MailKind,
    OutgoingMail,
)

log = logging.getLogger("authgate.mail")
DEVICE_ID = re.compile(r"[A-Za-z0-9_-]{16,128}")


class NewDeviceNotice:
    def __init__(
        self,
        *,
        devices: KnownDevices,
        queue: MailQueue,
        policy: MailPolicy,
        clock: Clock,
        audit: AuditLog,
    ) -> None:
        self._devices = devices
        self._queue = queue
        self._policy = policy
        self._clock = clock
        self._audit = audit

    async def signed_in(self, user: User, client: ClientInfo, amr: tuple[str, ...]) -> str:
        """Note the sign-in's device (mailing the owner when it is new to the account); the
        device id the client should keep."""
        sent = client.device
        device = sent if sent and DEVICE_ID.fullmatch(sent) else secrets.token_urlsafe(24)
        now = self._clock.now()
        try:
            new = await self._devices.remember(user.id, digest(device), now) is DeviceSeen.NEW
            if new and await self._mail_owner(user, client, amr, now):
                audit_event(self._audit, "new_device_notice", client, user_id=user.id)
        except StorageUnavailable as e:
            # The session is open already; a notice that could not be written is logged,
            # not turned into a failed sign-in.
            log.warning("new-device notice not queued for user %s: %s", user.id, cause_of(e))
        return device

    async def _mail_owner(
        self, user: User, client: ClientInfo, amr: tuple[str, ...], now: datetime
    ) -> bool:
        """Whether the notice was queued."""

        def compose(token: str, lifetime: timedelta) -> OutgoingMail:
            return compose_new_device(self._policy, user.email, token, client, amr, now)

        return await self._queue.with_way_out(user, now, compose)


def compose_new_device(
    policy: MailPolicy,
    recipient: str,
    token: str,
    client: ClientInfo,
    amr: tuple[str, ...],
    when: datetime,
) -> OutgoingMail:
    product, link = policy.product, policy.link(MailKind.SECURE_ACCOUNT, token)
    subject = f"New sign-in to your {product} account"
    paragraphs = [
        f"The {product} account for {recipient} was just signed in to from a device it had"
        " not used before.",
        f"When: {when:%Y-%m-%d %H:%M} UTC",
        f"IP address: {client.ip_address or 'unknown'}",
        # Named, not quoted: the User-Agent is the intruder's own text (a link, a "do not
        # click" note), and this mail is the owner's warning about them.
        f"Browser or app: {device_of(client.user_agent) or 'unknown'}",
        f"How: {method(amr)}",
        "If this was you, there is nothing to do.",
        "If it was not you, open this link: it signs the account out on every device and"
        " blocks the password until you choose a new one (a reset link follows by mail to"
        " this address, which the account gets back should its address have been changed"
        " meanwhile):",
        link,
        f"The link works once and expires in {duration(policy.ttl(MailKind.SECURE_ACCOUNT))}.",
    ]
    return outgoing(recipient, subject, paragraphs, product, link=link)


def method(amr: tuple[str, ...]) -> str:
    """The way in, in words, from the session's ``amr`` (domain.assurance)."""
    if "hwk" in amr:
        return "a passkey"
    if "fed" in amr:
        first = "an identity provider"
    elif "email" in amr:
        first = "a code or link sent by email"
    else:
        first = "the password"
    if "otp" in amr:
        return f"{first} and an authenticator app"
    if "rec" in amr:
        return f"{first} and a recovery code"
    return first
