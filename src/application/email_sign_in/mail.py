"""The sign-in mail: the code to type in the browser that asked, and a link for any device."""

from __future__ import annotations

from application.email.messages import MailPolicy, duration, outgoing
from application.email_sign_in.grants import SIGN_IN_TTL, Mailed
from domain.ports import OutgoingMail


def compose_sign_in(
    policy: MailPolicy, recipient: str, mailed: Mailed, *, new_account: bool
) -> OutgoingMail:
    product, link = policy.product, policy.sign_in_link(mailed.link_token)
    # The code is in the body only: a subject shows in notifications, mail lists and the
    # account's own export, where someone who does not own the mailbox could read it.
    subject = f"Your {product} sign-in code"
    what = "create a" if new_account else "sign in to the"
    paragraphs = [
        f"Someone asked to {what} {product} account for {recipient} without a password.",
        f"Your code is {mailed.code}. Type it in the browser where you asked for it.",
        "Or open this link on any device to sign in there:",
        link,
        f"The code and the link work once, together, and expire in {duration(SIGN_IN_TTL)}."
        " Never tell the code to anyone: we will never ask you for it.",
        "If you did not ask for this, ignore this message: nobody can sign in without the"
        " code or the link.",
    ]
    return outgoing(recipient, subject, paragraphs, product, link=link)
