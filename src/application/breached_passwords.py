"""New passwords are screened against known breaches (OWASP ASVS 5.0 V6.2.12, NIST SP
800-63B §3.1.1.2: refuse passwords from breach corpuses)."""

from __future__ import annotations

from application.client import ClientInfo, audit_event
from domain.errors import FieldError, PasswordBreached, ValidationFailed
from domain.ports import AuditLog, BreachCheckUnavailable, BreachedPasswords, PasswordHasher
from domain.values import password_problems


class BreachedPasswordCheck:
    def __init__(self, *, breaches: BreachedPasswords, audit: AuditLog) -> None:
        self._breaches = breaches
        self._audit = audit

    async def refuse(self, password: str, client: ClientInfo, *, user_id: int | None) -> None:
        """Raise ``PasswordBreached`` for a password known from breaches."""
        if await self.found(password, client, user_id=user_id):
            audit_event(self._audit, "breached_password_refused", client, user_id=user_id)
            raise PasswordBreached()

    async def found(self, password: str, client: ClientInfo, *, user_id: int | None) -> bool:
        """Whether the password is known from breaches; False when that cannot be told."""
        try:
            return await self._breaches.is_breached(password)
        except BreachCheckUnavailable as e:
            # Fail open: the length rules still hold, and a third party being down or slow
            # must not stop every sign-up, reset and password change. The audit line shows
            # which passwords went unscreened.
            audit_event(
                self._audit,
                "breach_check_unavailable",
                client,
                user_id=user_id,
                reason=e.reason,
            )
            return False


async def new_password_hash(
    password: str,
    *,
    breaches: BreachedPasswordCheck,
    hasher: PasswordHasher,
    client: ClientInfo,
    user_id: int | None,
) -> str:
    """What every change of a password (reset, change, set) does with the new one, in this
    order: the rules (422 on ``new_password``), the breach check (422 ``password_breached``),
    then the hash."""
    problems = password_problems(password)
    if problems:
        raise ValidationFailed([FieldError("new_password", p.message) for p in problems])
    await breaches.refuse(password, client, user_id=user_id)
    return await hasher.hash(password)
