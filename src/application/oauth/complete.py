from __future__ import annotations

from collections.abc import Collection, Mapping
from dataclasses import dataclass, replace

from application.client import ClientInfo, audit_event, change_event
from application.compensation import quietly
from application.mfa.planted import MailboxProof
from application.mfa.sign_in import SecondFactorGate
from application.oauth.attempts import Attempt, Attempts
from application.oauth.linking import AccountLinker, sign_in_failed
from application.oauth.providers import log, provider_named, refused
from application.session_issuer import SessionIssuer, SignedIn
from domain import assurance
from domain.entities import ExternalIdentity, User
from domain.errors import (
    IdentityProviderError,
    InvalidOAuthState,
    MfaRequired,
    StorageUnavailable,
)
from domain.ports import (
    AuditEvent,
    AuditLog,
    Clock,
    ExternalProfile,
    IdentityProvider,
    MailUnitOfWork,
    OneTimeStore,
    UserRepository,
)


@dataclass(frozen=True, slots=True, kw_only=True)
class CompleteOAuthCommand:
    provider: str
    state: str | None
    browser_state: str | None  # what the browser kept at start
    code: str | None
    error: str | None = None
    error_description: str | None = None
    client: ClientInfo


# RFC 8176 §2: "mfa" is the value that says several factors were checked; "otp" or "hwk"
# alone names one method (a code by itself, a key tapped: "user" is presence, not a PIN).
SECOND_FACTOR_AMR = "mfa"


@dataclass(frozen=True, slots=True, kw_only=True)
class OAuthSignedIn:
    signed_in: SignedIn
    return_to: str


@dataclass(frozen=True, slots=True, kw_only=True)
class OAuthSecondStep:
    """The account has a second factor the provider did not vouch for: no session yet, the
    second step of a password sign-in completes it with ``mfa_token``."""

    mfa_token: str
    methods: tuple[str, ...]
    return_to: str


class CompleteOAuth:
    def __init__(
        self,
        *,
        providers: Mapping[str, IdentityProvider],
        states: OneTimeStore,
        users: UserRepository,
        mail: MailUnitOfWork,
        issuer: SessionIssuer,
        proof: MailboxProof,
        second_factor: SecondFactorGate,
        trusted_amr: Collection[str] = (),
        clock: Clock,
        audit: AuditLog,
    ) -> None:
        """``trusted_amr``: the providers whose ``amr`` may stand for our second factor."""
        self._providers = providers
        self._attempts = Attempts(states, clock)
        self._users = users
        self._linker = AccountLinker(users=users, mail=mail, proof=proof, clock=clock, audit=audit)
        self._issuer = issuer
        self._second_factor = second_factor
        self._trusted_amr = frozenset(trusted_amr)
        self._clock = clock
        self._audit = audit

    async def execute(self, command: CompleteOAuthCommand) -> OAuthSignedIn | OAuthSecondStep:
        provider = provider_named(self._providers, command.provider)
        attempt = await self._attempts.take(command.provider, command.state, command.browser_state)
        try:
            profile = await self._profile(provider, attempt, command)
            if attempt.max_age is not None and profile.authenticated_at is None:
                # OpenID Connect Core §3.1.2.1: asked with max_age, the ID token must say when
                # the user authenticated; without it nothing shows the recent proof asked for.
                raise refused(command.provider, "auth_time_missing")
            # Written with the account if this sign-in makes one, naming its first session.
            registered = change_event(
                "user_registered",
                command.client,
                session_id=self._issuer.new_session_id(),
                reason=f"oidc:{command.provider}",
            )
            user, created = await self._linker.account(
                profile, command.provider, command.client, registered
            )
        except IdentityProviderError as exc:
            sign_in_failed(self._audit, command.provider, command.client, exc.provider_code)
            raise
        try:
            signed_in = await self._sign_in(user, registered if created else None, profile, command)
        except MfaRequired as required:
            return OAuthSecondStep(
                mfa_token=required.mfa_token, methods=required.methods, return_to=attempt.return_to
            )
        return OAuthSignedIn(signed_in=signed_in, return_to=attempt.return_to)

    async def _profile(
        self, provider: IdentityProvider, attempt: Attempt, command: CompleteOAuthCommand
    ) -> ExternalProfile:
        if command.error is not None:
            log.info(
                "%s answered the sign-in with error %r: %r",
                command.provider,
                command.error[:64],
                (command.error_description or "")[:200],
            )
            raise refused(command.provider, command.error[:64])
        if not command.code:
            raise InvalidOAuthState()
        try:
            # The only step that talks to the provider, and it comes before any write.
            return await provider.complete(
                code=command.code, code_verifier=attempt.verifier, nonce=attempt.nonce
            )
        except IdentityProviderError as exc:
            raise refused(command.provider, exc.provider_code) from exc

    async def _sign_in(
        self,
        user: User,
        registered: AuditEvent | None,
        profile: ExternalProfile,
        command: CompleteOAuthCommand,
    ) -> SignedIn:
        """``registered``: the sign-up's event when the account was made just now."""
        created = registered is not None
        identity = ExternalIdentity(
            provider=profile.issuer,
            subject=profile.subject,
            user_id=user.id,
            email=profile.email,
            created_at=self._clock.now(),
        )
        try:
            amr: tuple[str, ...] = assurance.FEDERATED
            if self._vouched_for_second_factor(profile, command.provider):
                amr = assurance.with_trusted_provider_mfa(amr)
            else:
                # ASVS 5.0 V6.3.3: the account's second factor before anything is kept,
                # the link included (it would let this provider account in by its identity
                # from then on, past the choice by verified address).
                await self._second_factor.check(user, amr, link=identity)
            await self._users.link_identity(identity)
            tokens = await self._issuer.start(
                user,
                command.client,
                amr,
                session_id=None if registered is None else registered.session_id,
                authenticated_at=profile.authenticated_at,
            )
        except StorageUnavailable:
            if created:
                # Nothing half-written: an account nobody received tokens for is undone.
                await quietly(self._users.remove(user.id))
            raise
        if registered is not None:
            self._audit.record(replace(registered, user_id=user.id))
        else:
            audit_event(
                self._audit,
                "login_succeeded",
                command.client,
                user_id=user.id,
                session_id=tokens.session_id,
                reason=f"oidc:{command.provider}",
            )
        return SignedIn(user=user, tokens=tokens)

    def _vouched_for_second_factor(self, profile: ExternalProfile, provider: str) -> bool:
        # A provider's sign-in is one factor to us unless the operator trusts its ``amr``
        # (OIDC Core §2; NIST SP 800-63C §5: the RP decides what a federated assertion is
        # worth). ASVS 5.0 V6.3.3: every way in to an account with MFA needs a second factor.
        return provider in self._trusted_amr and SECOND_FACTOR_AMR in profile.amr
