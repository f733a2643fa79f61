"""Ports: what the application needs from the outside world, one small role each."""

from domain.ports.administration import UserAdministration
from domain.ports.audit import AuditEvent, AuditLog
from domain.ports.breaches import BreachCheckUnavailable, BreachedPasswords
from domain.ports.captcha import CaptchaVerifier
from domain.ports.clock import Clock, IdGenerator
from domain.ports.devices import DeviceSeen, KnownDevices
from domain.ports.grants import (
    ExpiredGrants,
    GraceReplay,
    Invalid,
    RateLimit,
    RefreshGrantStore,
    Reused,
    Rotated,
    Rotation,
    RotationOutcome,
    SessionIdsOfUser,
    SessionRef,
    Throttled,
)
from domain.ports.identity import ExternalProfile, IdentityProvider
from domain.ports.integrity import GrantStoreIntegrity
from domain.ports.keyed import OneTimeStore, RateLimiter
from domain.ports.mail import (
    AccountEmail,
    MailDeliveryFailed,
    Mailer,
    MailKind,
    MailToken,
    MailTokens,
    MailUnitOfWork,
    MailWork,
    Outbox,
    OutboxDelivery,
    OutgoingMail,
    QueuedMail,
)
from domain.ports.second_factor import (
    PasskeyAccounts,
    Passkeys,
    RecoveryCodes,
    TotpCredentials,
)
from domain.ports.security import (
    AccessClaims,
    AccessTokens,
    GenuineRefreshToken,
    OneTimePasswords,
    PasswordHasher,
    RefreshTokens,
    SecretBox,
)
from domain.ports.sessions import SessionRepository
from domain.ports.signals import EventSigner, SecurityEvent, SecurityEvents
from domain.ports.users import UserProfiles, UserRepository
from domain.ports.webauthn import Attested, Ceremony, Claimed, Credential, PasskeyCeremonies
from domain.ports.webhooks import (
    ClaimedWebhook,
    NewWebhookEndpoint,
    WebhookDelivery,
    WebhookEndpoint,
    WebhookEndpoints,
    WebhookEvent,
    WebhookOutbox,
    WebhookRefused,
    WebhookTransport,
    WebhookUnreachable,
)

__all__ = [
    "AccessClaims",
    "AccessTokens",
    "AccountEmail",
    "Attested",
    "AuditEvent",
    "AuditLog",
    "BreachCheckUnavailable",
    "BreachedPasswords",
    "CaptchaVerifier",
    "Ceremony",
    "Claimed",
    "ClaimedWebhook",
    "Clock",
    "Credential",
    "DeviceSeen",
    "EventSigner",
    "ExpiredGrants",
    "ExternalProfile",
    "GenuineRefreshToken",
    "GraceReplay",
    "GrantStoreIntegrity",
    "IdGenerator",
    "IdentityProvider",
    "Invalid",
    "KnownDevices",
    "MailDeliveryFailed",
    "MailKind",
    "MailToken",
    "MailTokens",
    "MailUnitOfWork",
    "MailWork",
    "Mailer",
    "NewWebhookEndpoint",
    "OneTimePasswords",
    "OneTimeStore",
    "Outbox",
    "OutboxDelivery",
    "OutgoingMail",
    "PasskeyAccounts",
    "PasskeyCeremonies",
    "Passkeys",
    "PasswordHasher",
    "QueuedMail",
    "RateLimit",
    "RateLimiter",
    "RecoveryCodes",
    "RefreshGrantStore",
    "RefreshTokens",
    "Reused",
    "Rotated",
    "Rotation",
    "RotationOutcome",
    "SecretBox",
    "SecurityEvent",
    "SecurityEvents",
    "SessionIdsOfUser",
    "SessionRef",
    "SessionRepository",
    "Throttled",
    "TotpCredentials",
    "UserAdministration",
    "UserProfiles",
    "UserRepository",
    "WebhookDelivery",
    "WebhookEndpoint",
    "WebhookEndpoints",
    "WebhookEvent",
    "WebhookOutbox",
    "WebhookRefused",
    "WebhookTransport",
    "WebhookUnreachable",
]
