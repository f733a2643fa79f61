"""Value objects: a normalised email and the password policy."""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

from domain.errors import FieldError

# Syntactic check only (HTML living standard's "valid email address"); deliverability is
# the mail server's business. Length limits from RFC 5321 §4.5.3.1.
_EMAIL = re.compile(
    r"^[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]+@[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?"
    r"(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)+$"
)
MAX_EMAIL_LENGTH = 254

# OWASP ASVS 5.0 V6.2.1/V6.2.9: at least 8 characters, allow at least 64; we cap at 1024
# so a hostile body cannot make the hasher chew megabytes.
PASSWORD_MIN = 8
PASSWORD_MAX = 1024
NAME_MAX = 200

MAX_ID = 2**63 - 1  # ids are BIGINT: a larger one names nobody


@dataclass(frozen=True, slots=True)
class Email:
    value: str

    @classmethod
    def parse(cls, raw: str) -> Email:
        value = raw.strip().lower()
        if (
            # ASCII before lower(): it folds some non-ASCII letters into ASCII ones (the
            # Kelvin sign U+212A into "k"), which would make another mailbox's address this.
            not raw.isascii()
            or len(value) > MAX_EMAIL_LENGTH
            or not _EMAIL.fullmatch(value)
            # An RFC 2047 encoded-word, which mail software decodes in a header: the address
            # a mail would show is not this one (it may decode to CR LF and a header).
            or "=?" in value
        ):
            raise ValueError("must be a valid email address")
        return cls(value)

    def __str__(self) -> str:
        return self.value


def name_problems(name: str | None) -> list[FieldError]:
    if name is None:
        return []
    if len(name) > NAME_MAX:
        return [FieldError("name", f"must be at most {NAME_MAX} characters")]
    if any(unicodedata.category(c) in ("Cc", "Cs") for c in name):
        return [FieldError("name", "must not contain control characters")]
    return []


def password_problems(password: str) -> list[FieldError]:
    if len(password) < PASSWORD_MIN:
        return [FieldError("password", f"must be at least {PASSWORD_MIN} characters")]
    if len(password) > PASSWORD_MAX:
        return [FieldError("password", f"must be at most {PASSWORD_MAX} characters")]
    return []
