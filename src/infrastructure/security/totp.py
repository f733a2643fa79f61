"""RFC 6238 TOTP with pyotp: SHA-1, 6 digits, 30-second steps (what authenticator apps
assume when the URI names nothing else)."""

from __future__ import annotations

import hmac
from datetime import datetime

import pyotp

from domain.ports import OneTimePasswords

# RFC 4226 §4 R6: the shared secret is at least 128 bits, 160 recommended; 32 base32
# characters are 160 bits.
SECRET_LENGTH = 32


class PyOtpPasswords(OneTimePasswords):
    def new_secret(self) -> str:
        return pyotp.random_base32(SECRET_LENGTH)

    def provisioning_uri(self, secret: str, *, account: str, issuer: str) -> str:
        return pyotp.TOTP(secret).provisioning_uri(name=account, issuer_name=issuer)

    def matching_step(self, secret: str, code: str, at: datetime, skew: int) -> int | None:
        totp = pyotp.TOTP(secret)
        now = totp.timecode(at)
        found = None
        # Every step in the window is compared (in constant time), matching or not.
        for step in range(now - skew, now + skew + 1):
            if hmac.compare_digest(totp.generate_otp(step), code):
                found = step
        return found
