"""The mails people receive: what happened, the link, how long it works, what to do if it
was not them. Plain text and the same in HTML."""

from __future__ import annotations

import html
from dataclasses import dataclass
from datetime import timedelta

from domain.ports import MailKind, OutgoingMail


@dataclass(frozen=True, slots=True, kw_only=True)
class MailPolicy:
    product: str
    verify_url: str  # templates with {token}
    reset_url: str
    sign_in_url: str
    secure_url: str
    change_url: str
    verify_ttl: timedelta = timedelta(hours=24)
    reset_ttl: timedelta = timedelta(minutes=30)
    secure_ttl: timedelta = timedelta(days=7)
    # As short as a reset's scale allows: the link moves where every reset mail goes.
    change_ttl: timedelta = timedelta(hours=1)
    require_verified: bool = False  # AUTH_REQUIRE_VERIFIED_EMAIL

    def ttl(self, kind: MailKind) -> timedelta:
        return {
            MailKind.VERIFY_EMAIL: self.verify_ttl,
            MailKind.RESET_PASSWORD: self.reset_ttl,
            MailKind.SECURE_ACCOUNT: self.secure_ttl,
            MailKind.CHANGE_EMAIL: self.change_ttl,
            MailKind.RESTORE_EMAIL: self.secure_ttl,
        }[kind]

    def link(self, kind: MailKind, token: str) -> str:
        template = {
            MailKind.VERIFY_EMAIL: self.verify_url,
            MailKind.RESET_PASSWORD: self.reset_url,
            MailKind.SECURE_ACCOUNT: self.secure_url,
            MailKind.CHANGE_EMAIL: self.change_url,
            MailKind.RESTORE_EMAIL: self.secure_url,
        }[kind]
        return template.replace("{token}", token)

    def sign_in_link(self, token: str) -> str:
        return self.sign_in_url.replace("{token}", token)


def compose(policy: MailPolicy, kind: MailKind, recipient: str, token: str) -> OutgoingMail:
    product, link = policy.product, policy.link(kind, token)
    expiry = duration(policy.ttl(kind))
    if kind is MailKind.VERIFY_EMAIL:
        subject = f"Confirm your email address for {product}"
        paragraphs = [
            f"Please confirm that {recipient} is your email address for {product}.",
            "Open this link to confirm it:",
            link,
            f"The link works once and expires in {expiry}.",
            f"If you did not create a {product} account, ignore this message: nothing"
            " happens unless the link is opened.",
        ]
    elif kind is MailKind.CHANGE_EMAIL:
        subject = f"Confirm your new email address for {product}"
        paragraphs = [
            f"Someone signed in to a {product} account asked to make {recipient} its email"
            " address.",
            "Open this link to confirm it:",
            link,
            f"The link works once and expires in {expiry}.",
            "If you did not ask for this, ignore this message: nothing changes unless the"
            " link is opened.",
        ]
    else:
        subject = f"Reset your {product} password"
        paragraphs = [
            f"Someone asked to reset the password of the {product} account for {recipient}.",
            "Open this link to choose a new password:",
            link,
            f"The link works once and expires in {expiry}. Setting a new password signs the"
            " account out on every device.",
            "If you did not ask for this, ignore this message: your password stays as it is."
            " If it keeps happening, tell us.",
        ]
    return outgoing(recipient, subject, paragraphs, product, link=link)


def outgoing(
    recipient: str, subject: str, paragraphs: list[str], product: str, *, link: str | None = None
) -> OutgoingMail:
    """The mail in plain text and the same in HTML."""
    return OutgoingMail(
        recipient=recipient,
        subject=subject,
        text="\n\n".join(["Hello,", *paragraphs, f"— {product}"]) + "\n",
        html=_html(subject, paragraphs, product, link=link),
    )


def _html(subject: str, paragraphs: list[str], product: str, *, link: str | None = None) -> str:
    def block(text: str) -> str:
        if link is not None and text == link:
            href = html.escape(link, quote=True)
            return f'<p><a href="{href}">{html.escape(subject)}</a></p>'
        return f"<p>{html.escape(text)}</p>"

    body = "\n".join(["<p>Hello,</p>", *map(block, paragraphs), f"<p>— {html.escape(product)}</p>"])
    return (
        '<!doctype html>\n<html><head><meta charset="utf-8">'
        f"<title>{html.escape(subject)}</title></head>\n<body>\n{body}\n</body></html>\n"
    )


def duration(ttl: timedelta) -> str:
    minutes = int(ttl.total_seconds()) // 60
    if minutes % 60 == 0:
        hours = minutes // 60
        return f"{hours} hour{'s' if hours != 1 else ''}"
    return f"{minutes} minute{'s' if minutes != 1 else ''}"


def compose_breach_notice(policy: MailPolicy, recipient: str) -> OutgoingMail:
    product = policy.product
    subject = f"Change your {product} password"
    paragraphs = [
        f"You just signed in to the {product} account for {recipient} with a password that"
        " appears in known data breaches: attackers try such passwords first.",
        "Please choose a new password now (change it while signed in, or ask for a reset"
        " link on the sign-in page), and do not use it anywhere else.",
        "If you did not sign in just now, change your password at once.",
    ]
    return outgoing(recipient, subject, paragraphs, product)


def masked(email: str) -> str:
    """``j***@example.com``: enough for the owner to recognise, little for whoever reads
    the old mailbox now."""
    local, _, domain = email.rpartition("@")
    return f"{local[:1]}***@{domain}"
