"""What people type: six-digit TOTP codes and recovery codes, read leniently.

Recovery codes are ten symbols of Crockford's base32 (no i, l, o, u; lower case), shown as
``xxxxx-xxxxx``: 50 random bits each. Reading forgives case, spaces, hyphens and the
look-alikes Crockford maps (i, l → 1; o → 0).
"""

from __future__ import annotations

import re
import secrets

from domain.errors import FieldError, ValidationFailed

ALPHABET = "0123456789abcdefghjkmnpqrstvwxyz"
GROUP = 5
SYMBOLS = 2 * GROUP  # 10 symbols x 5 bits = 50 bits
RECOVERY_CODES = 10
CODE_MAX = 64  # anything longer is no code of ours, and is not even read
_TOTP = re.compile(r"[0-9]{6}")
_SEPARATORS = re.compile(r"[\s-]")
_LOOK_ALIKES = str.maketrans("ilo", "110")


def totp_code(raw: str) -> str | None:
    """Six digits (spaces allowed, as apps show ``123 456``), or None."""
    if len(raw) > CODE_MAX:
        return None
    code = _SEPARATORS.sub("", raw)
    return code if _TOTP.fullmatch(code) else None


def recovery_code(raw: str) -> str | None:
    """The code's ten symbols, or None when it cannot be one."""
    if len(raw) > CODE_MAX:
        return None
    code = _SEPARATORS.sub("", raw.lower()).translate(_LOOK_ALIKES)
    if len(code) != SYMBOLS or any(c not in ALPHABET for c in code):
        return None
    return code


APP = "totp"
RECOVERY = "recovery_code"
FIELD = {APP: "code", RECOVERY: "recovery_code"}  # the request field each kind comes in


def second_code(app: str | None, recovery: str | None) -> tuple[str, str] | None:
    """The one second-factor code a request sent (its ``code`` or its ``recovery_code``),
    read: ``(APP, digits)`` or ``(RECOVERY, symbols)``; None when it sent neither. Both, or
    one that cannot be a code: 422."""
    if app is not None and recovery is not None:
        raise ValidationFailed([FieldError("code", "send either code or recovery_code, not both")])
    if app is not None:
        digits = totp_code(app)
        if digits is None:
            raise ValidationFailed([FieldError("code", "must be the app's 6 digits")])
        return APP, digits
    if recovery is not None:
        symbols = recovery_code(recovery)
        if symbols is None:
            raise ValidationFailed(
                [FieldError("recovery_code", "must be a recovery code like xxxxx-xxxxx")]
            )
        return RECOVERY, symbols
    return None


def new_recovery_codes() -> list[str]:
    """Ten distinct codes, grouped for people: ``xxxxx-xxxxx``."""
    codes: set[str] = set()
    while len(codes) < RECOVERY_CODES:
        codes.add("".join(secrets.choice(ALPHABET) for _ in range(SYMBOLS)))
    return [f"{c[:GROUP]}-{c[GROUP:]}" for c in sorted(codes)]
