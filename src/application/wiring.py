"""Every use case built from one set of port implementations.

The HTTP container passes the real adapters, the unit tests pass fakes; the wiring itself
exists once.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from dataclasses import dataclass

from application.authenticate import Authenticate, GetCurrentUser, UncachedProfiles
from application.email.messages import MailPolicy
from application.email.queue import MailQueue
from application.email.sender import DeliveryPolicy
from application.email.wiring import EmailCases, wire_email
from application.import_users import ImportUsers
from application.introspection import IntrospectionClients, IntrospectionPolicy, IntrospectToken
from application.login import Login
from application.logout import Logout
from application.mfa.wiring import MfaCases, wire_mfa
from application.oauth import CompleteOAuth, StartOAuth
from application.refresh import RefreshSession
from application.register import RegisterUser
from application.revocation import SessionRevoker
from application.session_issuer import SessionIssuer, SessionPolicy
from application.sessions import ListSessions, RevokeSession, RevokeSessions
from application.throttle import Limits, Throttle
from domain.ports import (
    AccessTokens,
    AuditLog,
    CaptchaVerifier,
    Clock,
    IdentityProvider,
    IdGenerator,
    Mailer,
    MailUnitOfWork,
    OneTimePasswords,
    OneTimeStore,
    OutboxDelivery,
    PasskeyCeremonies,
    Passkeys,
    PasswordHasher,
    RateLimiter,
    RecoveryCodes,
    RefreshGrantStore,
    RefreshTokens,
    SecretBox,
    SessionRepository,
    TotpCredentials,
    UserProfiles,
    UserRepository,
)


@dataclass(frozen=True, slots=True, kw_only=True)
class Ports:
    users: UserRepository
    sessions: SessionRepository
    grants: RefreshGrantStore
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
    mail: MailUnitOfWork
    outbox: OutboxDelivery
    mailer: Mailer
    profiles: UserProfiles | None = None  # users read fresh when not given
    totp: TotpCredentials
    recovery_codes: RecoveryCodes
    passkeys: Passkeys
    secret_box: SecretBox
    otp: OneTimePasswords
    ceremonies: PasskeyCeremonies


@dataclass(frozen=True, slots=True, kw_only=True)
class UseCases:
    issuer: SessionIssuer
    revoker: SessionRevoker
    register: RegisterUser
    login: Login
    refresh: RefreshSession
    authenticate: Authenticate
    current_user: GetCurrentUser
    logout: Logout
    revoke_sessions: RevokeSessions
    list_sessions: ListSessions
    revoke_session: RevokeSession
    import_users: ImportUsers
    start_oauth: StartOAuth
    complete_oauth: CompleteOAuth
    email: EmailCases
    introspect: IntrospectToken
    introspection_clients: IntrospectionClients
    mfa: MfaCases


def wire(
    ports: Ports,
    *,
    policy: SessionPolicy,
    limits: Limits,
    return_to_allowlist: Collection[str],
    mail_policy: MailPolicy,
    delivery: DeliveryPolicy,
    introspection: IntrospectionPolicy,
) -> UseCases:
    p = ports
    authenticate = Authenticate(access_tokens=p.access_tokens, grants=p.grants, clock=p.clock)
    revoker = SessionRevoker(
        sessions=p.sessions, grants=p.grants, policy=policy, clock=p.clock, audit=p.audit
    )
    issuer = SessionIssuer(
        users=p.users,
        sessions=p.sessions,
        grants=p.grants,
        access_tokens=p.access_tokens,
        refresh_tokens=p.refresh_tokens,
        clock=p.clock,
        ids=p.ids,
        policy=policy,
        revoker=revoker,
    )
    throttle = Throttle(limiter=p.limiter, limits=limits, clock=p.clock, audit=p.audit)
    queue = MailQueue(mail=p.mail, policy=mail_policy, clock=p.clock)
    mfa = wire_mfa(p, issuer, throttle, totp_issuer=mail_policy.product)
    return UseCases(
        issuer=issuer,
        revoker=revoker,
        register=RegisterUser(
            users=p.users,
            hasher=p.hasher,
            captcha=p.captcha,
            issuer=issuer,
            throttle=throttle,
            mail=queue,
            require_verified=mail_policy.require_verified,
            clock=p.clock,
            audit=p.audit,
        ),
        login=Login(
            users=p.users,
            hasher=p.hasher,
            issuer=issuer,
            throttle=throttle,
            clock=p.clock,
            audit=p.audit,
            second_factor=mfa.gate,
            require_verified=mail_policy.require_verified,
        ),
        refresh=RefreshSession(
            sessions=p.sessions,
            grants=p.grants,
            refresh_tokens=p.refresh_tokens,
            issuer=issuer,
            revoker=revoker,
            policy=policy,
            throttle=throttle,
            clock=p.clock,
            audit=p.audit,
        ),
        authenticate=authenticate,
        current_user=GetCurrentUser(profiles=p.profiles or UncachedProfiles(p.users)),
        logout=Logout(
            sessions=p.sessions,
            refresh_tokens=p.refresh_tokens,
            authenticate=authenticate,
            revoker=revoker,
        ),
        revoke_sessions=RevokeSessions(revoker=revoker),
        list_sessions=ListSessions(sessions=p.sessions, clock=p.clock),
        revoke_session=RevokeSession(sessions=p.sessions, revoker=revoker, clock=p.clock),
        import_users=ImportUsers(users=p.users, clock=p.clock),
        start_oauth=StartOAuth(
            providers=p.identity_providers,
            states=p.one_time,
            clock=p.clock,
            allowlist=return_to_allowlist,
        ),
        complete_oauth=CompleteOAuth(
            providers=p.identity_providers,
            states=p.one_time,
            users=p.users,
            mail=p.mail,
            issuer=issuer,
            revoker=revoker,
            clock=p.clock,
            audit=p.audit,
        ),
        email=wire_email(p, queue, throttle, revoker, delivery),
        introspect=IntrospectToken(authenticate=authenticate, context=introspection.context),
        introspection_clients=IntrospectionClients(introspection.secrets),
        mfa=mfa,
    )
