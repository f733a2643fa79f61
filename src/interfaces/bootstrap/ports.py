"""What the use cases are built from: every port, and the policies read from the settings.

The service fills these with adapters (``adapters.open_ports``), the unit tests with fakes;
``use_cases.build`` turns either into the same object graph.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from dataclasses import dataclass, field
from datetime import timedelta

from application.email.messages import MailPolicy
from application.email.sender import DeliveryPolicy
from application.introspection import IntrospectionPolicy
from application.session_policy import SessionPolicy
from application.signals import SignalPolicy
from application.throttle import Limits
from application.webhooks.sender import WebhookPolicy
from domain.ports import (
    AccessTokens,
    AuditLog,
    BreachedPasswords,
    CaptchaVerifier,
    Clock,
    EventSigner,
    ExpiredGrants,
    GrantStoreIntegrity,
    IdentityProvider,
    IdGenerator,
    KnownDevices,
    Mailer,
    MailHistory,
    MailUnitOfWork,
    OneTimePasswords,
    OneTimeStore,
    OutboxDelivery,
    PasskeyAccounts,
    PasskeyCeremonies,
    Passkeys,
    PasswordHasher,
    RateLimiter,
    RecoveryCodes,
    RefreshGrantStore,
    RefreshTokens,
    SecretBox,
    SecurityActivity,
    SecurityEvents,
    SessionRepository,
    TotpCredentials,
    UserAdministration,
    UserProfiles,
    UserRepository,
    WebhookEndpoints,
    WebhookOutbox,
    WebhookTransport,
)


@dataclass(frozen=True, slots=True, kw_only=True)
class Ports:
    users: UserRepository
    profiles: UserProfiles
    administration: UserAdministration
    sessions: SessionRepository
    devices: KnownDevices
    grants: RefreshGrantStore
    # The lost-store repair: the store's seal, and the grants it works through (Valkey: a
    # client that is not refused while the store is unsealed).
    integrity: GrantStoreIntegrity
    recovery_grants: RefreshGrantStore
    expired: ExpiredGrants | None  # none where keys expire by themselves (Valkey)
    one_time: OneTimeStore
    limiter: RateLimiter
    hasher: PasswordHasher
    captcha: CaptchaVerifier
    access_tokens: AccessTokens
    refresh_tokens: RefreshTokens
    identity_providers: Mapping[str, IdentityProvider]
    clock: Clock
    ids: IdGenerator
    audit: AuditLog
    activity: SecurityActivity  # the account's security activity (the audit events of a user)
    mail_history: MailHistory
    mail: MailUnitOfWork
    outbox: OutboxDelivery
    mailer: Mailer
    totp: TotpCredentials
    recovery_codes: RecoveryCodes
    passkeys: Passkeys
    passkey_accounts: PasskeyAccounts
    secret_box: SecretBox
    otp: OneTimePasswords
    ceremonies: PasskeyCeremonies
    breaches: BreachedPasswords
    webhook_endpoints: WebhookEndpoints
    webhook_outbox: WebhookOutbox
    webhook_transport: WebhookTransport
    security_events: SecurityEvents
    event_signer: EventSigner


@dataclass(frozen=True, slots=True, kw_only=True)
class Policies:
    session: SessionPolicy
    limits: Limits
    mail: MailPolicy
    delivery: DeliveryPolicy
    webhooks: WebhookPolicy
    introspection: IntrospectionPolicy
    signals: SignalPolicy
    signals_receivers: Mapping[str, str] = field(default_factory=dict)  # name -> bearer token
    email_sign_up: bool = False  # AUTH_EMAIL_SIGNUP: a first sign-in code creates the account
    activity_retention: timedelta = timedelta(days=90)
    return_to_allowlist: Collection[str] = ()
    trusted_amr: Collection[str] = ()  # providers whose ``amr`` counts as our second factor
