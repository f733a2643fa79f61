"""Notices: a mail to the account's address whenever what protects the account changes (a
second factor added or removed, the password changed), so its owner learns of a change
they did not make (OWASP ASVS 5.0 V6.3.7, V6.4.4). A factor added carries the "this wasn't
me" link of a new-device notice (``compose_factor_added``); the others have nothing to
click."""

from __future__ import annotations

from datetime import timedelta
from enum import StrEnum

from application.email.messages import duration, outgoing
from domain.ports import OutgoingMail


class Notice(StrEnum):
    APP_ADDED = "app_added"
    APP_REMOVED = "app_removed"
    PASSKEY_ADDED = "passkey_added"
    PASSKEY_REMOVED = "passkey_removed"
    UNVERIFIED_FACTORS_REMOVED = "unverified_factors_removed"
    RECENT_FACTORS_REMOVED = "recent_factors_removed"
    PASSWORD_CHANGED = "password_changed"
    PASSWORD_SET = "password_set"
    CODES_LOCKED = "codes_locked"


_WHAT = {
    Notice.APP_ADDED: ("An authenticator app was turned on", "was turned on as a second factor"),
    Notice.APP_REMOVED: ("Your authenticator app was removed", "was removed"),
    Notice.PASSKEY_ADDED: ("A passkey was added", "was added"),
    Notice.PASSKEY_REMOVED: ("A passkey was removed", "was removed"),
    Notice.UNVERIFIED_FACTORS_REMOVED: (
        "Second factors were removed",
        "were removed: they were added before this address was confirmed",
    ),
    Notice.RECENT_FACTORS_REMOVED: (
        "Second factors were removed",
        "were removed: they were added while whoever you reported could have been signed in",
    ),
    Notice.PASSWORD_CHANGED: ("Your password was changed", "was changed"),
    Notice.PASSWORD_SET: ("A password was set", "was set: the account can sign in with it"),
    Notice.CODES_LOCKED: (
        "Sign-ins with a code are paused",
        "are paused for today: too many wrong codes were tried",
    ),
}
_THING = {
    Notice.APP_ADDED: "An authenticator app",
    Notice.APP_REMOVED: "The authenticator app",
    Notice.PASSKEY_ADDED: "A passkey",
    Notice.PASSKEY_REMOVED: "A passkey",
    Notice.UNVERIFIED_FACTORS_REMOVED: "The second factors",
    Notice.RECENT_FACTORS_REMOVED: "The second factors",
    Notice.PASSWORD_CHANGED: "The password",
    Notice.PASSWORD_SET: "A password",
    Notice.CODES_LOCKED: "Second-step sign-ins with a code",
}


def compose_notice(product: str, notice: Notice, recipient: str) -> OutgoingMail:
    headline, what = _WHAT[notice]
    subject = f"{headline} — {product}"
    paragraphs = [
        f"{_THING[notice]} of the {product} account for {recipient} {what}.",
        "If this was you, there is nothing to do.",
        "If it was not, reset your password at once and review the account's second"
        " factors and signed-in devices.",
    ]
    return outgoing(recipient, subject, paragraphs, product)


def compose_factor_added(
    product: str, notice: Notice, recipient: str, link: str, ttl: timedelta
) -> OutgoingMail:
    """A factor added, with a way out: whoever added it with a stolen access token, or the
    password, holds the second factor that removing it takes (aal2), and a password reset
    keeps it; the link removes it (``application.devices.secure``)."""
    headline, what = _WHAT[notice]
    paragraphs = [
        f"{_THING[notice]} of the {product} account for {recipient} {what}.",
        "If this was you, there is nothing to do.",
        "If it was not you, open this link: it removes it and every second factor added"
        " since, signs the account out on every device and blocks the password until you"
        " choose a new one (a reset link follows by mail):",
        link,
        f"The link works once and expires in {duration(ttl)}.",
    ]
    return outgoing(recipient, f"{headline} — {product}", paragraphs, product, link=link)


def compose_farewell(product: str, recipient: str) -> OutgoingMail:
    """The last mail to an address whose account its owner deleted."""
    subject = f"Your account was deleted — {product}"
    paragraphs = [
        f"The {product} account for {recipient} was deleted at its owner's request, with"
        " everything kept about it: profile, sign-in methods, devices and activity.",
        "This address can be used to sign up again. No more mail will come from this account.",
        "If you did not delete it, someone had access to it: sign up again and tell us.",
    ]
    return outgoing(recipient, subject, paragraphs, product)
