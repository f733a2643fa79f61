"""Which account an external identity signs in to.

A known (issuer, subject) signs in to its account whatever its email says now. Otherwise
the provider's email decides, and only once the provider has verified it: an unverified
address may belong to someone else, so linking it would hand them that account, and
creating one would let them pre-claim it for whoever verifies the address later.

A verified provider email that matches an account whose own email was never verified takes
that account over: whoever registered the address without owning it (pre-registration
takeover, OWASP ASVS V6.8 / "Account pre-hijacking", Sudhodanan & Paverd 2022) loses its
password and every session at once, and the address counts as verified from then on.
"""

from __future__ import annotations

from dataclasses import replace

from application.client import ClientInfo, audit_event, change_event
from application.mfa.planted import MailboxProof
from domain.entities import DEFAULT_ROLE, NewUser, User
from domain.errors import EmailTaken, IdentityProviderError, UnverifiedEmail
from domain.ports import (
    AuditEvent,
    AuditLog,
    Clock,
    ExternalProfile,
    MailKind,
    MailUnitOfWork,
    UserRepository,
)
from domain.values import NAME_MAX, Email, name_problems


class AccountLinker:
    def __init__(
        self,
        *,
        users: UserRepository,
        mail: MailUnitOfWork,
        proof: MailboxProof,
        clock: Clock,
        audit: AuditLog,
    ) -> None:
        self._users = users
        self._mail = mail
        self._proof = proof
        self._clock = clock
        self._audit = audit

    async def account(
        self, profile: ExternalProfile, provider: str, client: ClientInfo, registered: AuditEvent
    ) -> tuple[User, bool]:
        """The user this identity belongs to, and whether it was created just now (then
        ``registered``, the sign-up's event, was written with it)."""
        known = await self._users.get_by_identity(profile.issuer, profile.subject)
        if known is not None:
            return known, False
        email = _email(profile)
        try:
            return await self._by_email(email, profile, provider, client, registered)
        except EmailTaken:
            # A concurrent sign-in created the account between our lookup and our insert.
            return await self._by_email(email, profile, provider, client, registered)

    async def _by_email(
        self,
        email: Email,
        profile: ExternalProfile,
        provider: str,
        client: ClientInfo,
        registered: AuditEvent,
    ) -> tuple[User, bool]:
        existing = await self._users.get_by_email(email.value)
        if not profile.email_verified:
            sign_in_failed(self._audit, provider, client, UnverifiedEmail.code, existing)
            raise UnverifiedEmail()
        if existing is not None:
            if not existing.email_verified:
                existing = await self._take_over(existing, provider, client)
            return existing, False
        now = self._clock.now()
        name = profile.name[:NAME_MAX] if profile.name else None
        if name_problems(name):
            name = None  # the provider's choice, held to the rule of every other way in
        created = await self._users.add(
            NewUser(
                email=email.value,
                password_hash=None,
                name=name,
                role=DEFAULT_ROLE,
                created_at=now,
                email_verified_at=now,
            ),
            registered,
        )
        return created, True

    async def _take_over(self, user: User, provider: str, client: ClientInfo) -> User:
        now = self._clock.now()
        dropped = change_event(
            "unverified_credentials_dropped", client, user_id=user.id, reason=f"oidc:{provider}"
        )
        async with self._mail.begin() as work:
            await work.accounts.set_password(user.id, None, now, verified=True, told=dropped)
            for kind in MailKind:
                await work.tokens.discard(user.id, kind, now)
        await self._proof.proven(user.id, None, client, credentials_replaced_at=now)
        self._audit.record(dropped)
        return replace(user, password_hash=None, email_verified_at=now)


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
