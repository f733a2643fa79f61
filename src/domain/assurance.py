"""How and when a session's user proved who they are.

Every session keeps an ``Assurance`` from its sign-in, every access token states it
(OpenID Connect Core §2 / RFC 9068 §2.2.1: ``auth_time``, ``amr``, ``acr``), a refresh keeps
it (a refresh is no new authentication), and a re-authentication replaces it. The ``amr``
values are RFC 8176's where one fits; ``rec`` (a recovery code) is authgate's own. ``acr``
names the NIST SP 800-63B level: two factors, or a passkey with user verification, are
``aal2``; anything else ``aal1``.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

AAL1 = "aal1"
AAL2 = "aal2"

PASSWORD: tuple[str, ...] = ("pwd",)
PASSKEY: tuple[str, ...] = ("hwk", "user", "mfa")  # a WebAuthn credential with user verification
FEDERATED: tuple[str, ...] = ("fed",)  # an identity provider's sign-in
EMAIL_CODE: tuple[str, ...] = (
    "email",
)  # a code or link mailed to the address (not RFC 8176 ``otp``)
_APP: tuple[str, ...] = ("otp", "mfa")  # plus an authenticator app's code (RFC 6238)
_RECOVERY_CODE: tuple[str, ...] = ("rec", "mfa")  # plus a single-use recovery code

SECOND_FACTOR = "mfa"


def with_app(first: tuple[str, ...]) -> tuple[str, ...]:
    """A first factor completed by a code of the authenticator app."""
    return _joined(first, _APP)


def with_recovery_code(first: tuple[str, ...]) -> tuple[str, ...]:
    """A first factor completed by a recovery code."""
    return _joined(first, _RECOVERY_CODE)


def with_trusted_provider_mfa(first: tuple[str, ...]) -> tuple[str, ...]:
    """An identity provider trusted for it said its sign-in had a second factor."""
    return _joined(first, (SECOND_FACTOR,))


def _joined(first: tuple[str, ...], more: tuple[str, ...]) -> tuple[str, ...]:
    return first + tuple(value for value in more if value not in first)


@dataclass(frozen=True, slots=True)
class Assurance:
    auth_time: datetime
    amr: tuple[str, ...]

    @property
    def acr(self) -> str:
        return AAL2 if SECOND_FACTOR in self.amr else AAL1

    def stored_amr(self) -> str:
        """The methods as one string, the form the stores keep."""
        return " ".join(self.amr)

    @classmethod
    def stored(cls, auth_time: datetime, amr: str | None) -> Assurance:
        return cls(auth_time, tuple((amr or "").split()))
