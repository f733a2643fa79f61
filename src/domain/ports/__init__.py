"""Ports: what the application needs from the outside world, one small role each."""

from domain.ports.administration import UserAdministration
from domain.ports.audit import AuditEvent, AuditLog
from domain.ports.captcha import CaptchaVerifier
from domain.ports.clock import Clock, IdGenerator
from domain.ports.grants import (
    GraceReplay,
    Invalid,
    RateLimit,
    RefreshGrantStore,
    Reused,
    Rotated,
    Rotation,
    RotationOutcome,
    SessionRef,
    Throttled,
)
from domain.ports.identity import ExternalProfile, IdentityProvider
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
from domain.ports.security import AccessClaims, AccessTokens, PasswordHasher, RefreshTokens
from domain.ports.sessions import SessionRepository
from domain.ports.users import UserProfiles, UserRepository

__all__ = [
    "AccessClaims",
    "AccessTokens",
    "AccountEmail",
    "AuditEvent",
    "AuditLog",
    "CaptchaVerifier",
    "Clock",
    "ExternalProfile",
    "GraceReplay",
    "IdGenerator",
    "IdentityProvider",
    "Invalid",
    "MailDeliveryFailed",
    "MailKind",
    "MailToken",
    "MailTokens",
    "MailUnitOfWork",
    "MailWork",
    "Mailer",
    "OneTimeStore",
    "Outbox",
    "OutboxDelivery",
    "OutgoingMail",
    "PasswordHasher",
    "QueuedMail",
    "RateLimit",
    "RateLimiter",
    "RefreshGrantStore",
    "RefreshTokens",
    "Reused",
    "Rotated",
    "Rotation",
    "RotationOutcome",
    "SessionRef",
    "SessionRepository",
    "Throttled",
    "UserAdministration",
    "UserProfiles",
    "UserRepository",
]
