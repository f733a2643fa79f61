"""Checking a second factor, once: a TOTP code, or a recovery code.

RFC 6238 §5.2: one step of clock skew either way is forgiven, and a code is never accepted
twice (the last step used is stored, and only a later one is accepted, in one atomic step).

Recovery codes are kept as HMAC-SHA256 digests under a key that is not in the database (the
secrets key). NIST SP 800-63B §5.1.2.2 asks look-up secrets to be stored "in a form that is
resistant to offline attacks", and ASVS 5.0 V6.5.2 a salted password hash below 112 bits of
entropy. A keyed digest meets the first on its own terms: with the database alone no guess
can be tested at all (the "secret key known only to the verifier" of SP 800-63B §5.1.1.2,
OWASP Password Storage Cheat Sheet, "Peppering"). Whoever has the key too can already open
the TOTP secret the codes stand in for, so a slow hash would protect nothing more, and a
fast digest lets a code be found by one indexed lookup (an atomic single use, no scan of
ten slow hashes per attempt). We depart from V6.5.2's letter for that reason.
"""

from __future__ import annotations

from application.mfa import codes
from domain import assurance
from domain.entities import TotpCredential
from domain.ports import (
    AuditEvent,
    Clock,
    OneTimePasswords,
    RecoveryCodes,
    SecretBox,
    TotpCredentials,
)

SKEW_STEPS = 1


def secret_context(user_id: int) -> str:
    """What a sealed TOTP secret is bound to: its owner."""
    return f"totp:{user_id}"


class SecondFactors:
    def __init__(
        self,
        *,
        totp: TotpCredentials,
        recovery: RecoveryCodes,
        box: SecretBox,
        otp: OneTimePasswords,
        clock: Clock,
    ) -> None:
        self._totp = totp
        self._recovery = recovery
        self._box = box
        self._otp = otp
        self._clock = clock

    async def active(self, user_id: int) -> TotpCredential | None:
        credential = await self._totp.get(user_id)
        return credential if credential is not None and credential.active else None

    def step_of(self, credential: TotpCredential, code: str) -> int | None:
        """The time step this code belongs to, if it is the secret's code near now."""
        secret = self._box.open(credential.sealed_secret, secret_context(credential.user_id))
        return self._otp.matching_step(secret, code, self._clock.now(), SKEW_STEPS)

    async def use_totp(self, user_id: int, code: str) -> bool:
        credential = await self.active(user_id)
        if credential is None:
            return False
        step = self.step_of(credential, code)
        return step is not None and await self._totp.use_step(user_id, step)

    async def use_recovery_code(
        self, user_id: int, code: str, used: AuditEvent | None = None
    ) -> bool:
        """``code`` as ``codes.recovery_code`` reads it; ``used``: the audit event of its
        use, its activity row written with the use."""
        digest = self.digest(user_id, code)
        return await self._recovery.use(user_id, digest, self._clock.now(), used)

    async def completes(
        self,
        user_id: int,
        second: tuple[str, str],
        first: tuple[str, ...],
        used: AuditEvent | None = None,
    ) -> tuple[str, ...] | None:
        """The ``amr`` of ``first`` completed by ``second`` (as ``codes.second_code`` read
        it), once the code is used up; None for a wrong code. ``used``: the audit event of
        a recovery code's use (``recovery_code_used``), written with the use when
        ``second`` is a recovery code."""
        method, code = second
        if method == codes.APP:
            return assurance.with_app(first) if await self.use_totp(user_id, code) else None
        if await self.use_recovery_code(user_id, code, used):
            return assurance.with_recovery_code(first)
        return None

    def new_recovery_codes(self, user_id: int) -> tuple[list[str], list[str]]:
        """Ten new codes to show once, and the digests to store."""
        shown = codes.new_recovery_codes()
        digests = [self.digest(user_id, c.replace("-", "")) for c in shown]
        return shown, digests

    def digest(self, user_id: int, code: str) -> str:
        return self._box.digest(f"recovery:{user_id}:{code}")
