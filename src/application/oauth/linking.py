"""Which account an external identity signs in to.

A known (issuer, subject) signs in to its account whatever its email says now. Otherwise
the provider's email decides, and only once the provider has verified it: an unverified
address may belong to someone else, so linking it would hand them that account, and
creating one would let them pre-claim it for whoever verifies the address later.
"""

from __future__ import annotations

from application.client import ClientInfo, audit_event
from domain.entities import DEFAULT_ROLE, NewUser, User
from domain.errors import EmailTaken, IdentityProviderError, UnverifiedEmail
from domain.ports import AuditLog, Clock, ExternalProfile, UserRepository
from domain.values import NAME_MAX, Email


class AccountLinker:
    def __init__(self, *, users: UserRepository, clock: Clock, audit: AuditLog) -> None:
        self._users = users
        self._clock = clock
        self._audit = audit

    async def account(
        self, profile: ExternalProfile, provider: str, client: ClientInfo
    ) -> tuple[User, bool]:
        """The user this identity belongs to, and whether it was created just now."""
        known = await self._users.get_by_identity(profile.issuer, profile.subject)
        if known is not None:
            return known, False
        email = _email(profile)
        try:
            return await self._by_email(email, profile, provider, client)
        except EmailTaken:
            # A concurrent sign-in created the account between our lookup and our insert.
            return await self._by_email(email, profile, provider, client)

    async def _by_email(
        self, email: Email, profile: ExternalProfile, provider: str, client: ClientInfo
    ) -> tuple[User, bool]:
        existing = await self._users.get_by_email(email.value)
        if not profile.email_verified:
            sign_in_failed(self._audit, provider, client, UnverifiedEmail.code, existing)
            raise UnverifiedEmail()
        if existing is not None:
            return existing, False
        created = await self._users.add(
            NewUser(
                email=email.value,
                password_hash=None,
                name=profile.name[:NAME_MAX] if profile.name else None,
                role=DEFAULT_ROLE,
                created_at=self._clock.now(),
            )
        )
        return created, True


def sign_in_failed(
    audit: AuditLog, provider: str, client: ClientInfo, why: str, user: User | None = None
) -> None:
    audit_event(
        audit,
        "login_failed",
        client,
        user_id=user.id if user else None,
        reason=f"oidc:{provider}:{why}",
    )


def _email(profile: ExternalProfile) -> Email:
    try:
        return Email.parse(profile.email or "")
    except ValueError:
        raise IdentityProviderError("email_missing") from None
