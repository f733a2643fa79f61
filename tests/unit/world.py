"""Every use case wired to in-memory fakes and the real (pure CPU) token adapters."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from joserfc.jwk import ECKey, KeySet

from application.authenticate import Authenticate, GetCurrentUser
from application.common import (
    ClientInfo,
    IssuedTokens,
    SessionIssuer,
    SessionPolicy,
    SignedIn,
)
from application.import_users import ImportUsers
from application.login import Login, LoginCommand
from application.logout import Logout
from application.refresh import RefreshCommand, RefreshSession
from application.register import RegisterCommand, RegisterUser
from application.revocation import SessionRevoker
from application.sessions import ListSessions, RevokeSession, RevokeSessions
from application.throttle import Limits, Throttle
from domain.ports import AccessClaims, CaptchaVerifier
from infrastructure.grants.memory import MemoryGrantStore, MemoryRateLimiter
from infrastructure.security.refresh_tokens import HmacRefreshTokens
from infrastructure.security.tokens import JwtAccessTokens
from tests.fakes.clock import FakeClock
from tests.fakes.repositories import MemorySessionRepository, MemoryUserRepository
from tests.fakes.security import AcceptingCaptcha, FakeHasher, RecordingAudit, SequentialIds

ISSUER = "https://auth.example.test"
AUDIENCE = "authgate-tests"
PASSWORD = "correct horse"
CLIENT = ClientInfo(ip_address="203.0.113.7", user_agent="pytest")

_KEYS = KeySet(
    [ECKey.generate_key("P-256", {"alg": "ES256", "use": "sig"}, private=True, auto_kid=True)]
)


def policy(*, grace: float = 10) -> SessionPolicy:
    return SessionPolicy(
        access_ttl=timedelta(seconds=900),
        idle_ttl=timedelta(days=7),
        max_age=timedelta(days=30),
        grace=timedelta(seconds=grace),
    )


@dataclass(slots=True, kw_only=True)
class World:
    clock: FakeClock
    users: MemoryUserRepository
    sessions: MemorySessionRepository
    grants: MemoryGrantStore
    hasher: FakeHasher
    audit: RecordingAudit
    access_tokens: JwtAccessTokens
    refresh_tokens: HmacRefreshTokens
    issuer: SessionIssuer
    throttle: Throttle
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

    async def sign_up(self, email: str = "ada@example.test", password: str = PASSWORD) -> SignedIn:
        return await self.register.execute(
            RegisterCommand(
                email=email, password=password, name="Ada", captcha_token="ok", client=CLIENT
            )
        )

    async def sign_in(self, email: str = "ada@example.test", password: str = PASSWORD) -> SignedIn:
        return await self.login.execute(LoginCommand(email=email, password=password, client=CLIENT))

    async def rotate(self, refresh_token: str | None) -> IssuedTokens:
        return await self.refresh.execute(
            RefreshCommand(refresh_token=refresh_token, client=CLIENT)
        )

    async def claims(self, access_token: str | None) -> AccessClaims:
        return await self.authenticate.execute(access_token)


def build_world(
    clock: FakeClock,
    *,
    grace: float = 10,
    grants: MemoryGrantStore | None = None,
    captcha: CaptchaVerifier | None = None,
    limits: Limits | None = None,
) -> World:
    users = MemoryUserRepository()
    sessions = MemorySessionRepository()
    grants = grants or MemoryGrantStore()
    hasher = FakeHasher()
    audit = RecordingAudit()
    access_tokens = JwtAccessTokens(_KEYS, issuer=ISSUER, audience=AUDIENCE, clock=clock.now)
    refresh_tokens = HmacRefreshTokens(secret=b"x" * 32)
    issuer = SessionIssuer(
        sessions=sessions,
        grants=grants,
        access_tokens=access_tokens,
        refresh_tokens=refresh_tokens,
        clock=clock,
        ids=SequentialIds(),
        policy=policy(grace=grace),
    )
    throttle = Throttle(
        limiter=MemoryRateLimiter(), limits=limits or Limits(), clock=clock, audit=audit
    )
    revoker = SessionRevoker(
        sessions=sessions, grants=grants, issuer=issuer, clock=clock, audit=audit
    )
    return World(
        clock=clock,
        users=users,
        sessions=sessions,
        grants=grants,
        hasher=hasher,
        audit=audit,
        access_tokens=access_tokens,
        refresh_tokens=refresh_tokens,
        issuer=issuer,
        throttle=throttle,
        revoker=revoker,
        register=RegisterUser(
            users=users,
            hasher=hasher,
            captcha=captcha or AcceptingCaptcha(),
            issuer=issuer,
            throttle=throttle,
            clock=clock,
            audit=audit,
        ),
        login=Login(
            users=users,
            hasher=hasher,
            issuer=issuer,
            throttle=throttle,
            clock=clock,
            audit=audit,
        ),
        refresh=RefreshSession(
            users=users,
            sessions=sessions,
            grants=grants,
            refresh_tokens=refresh_tokens,
            issuer=issuer,
            throttle=throttle,
            clock=clock,
            audit=audit,
        ),
        authenticate=Authenticate(access_tokens=access_tokens, grants=grants, clock=clock),
        current_user=GetCurrentUser(users=users),
        logout=Logout(grants=grants, refresh_tokens=refresh_tokens, revoker=revoker, clock=clock),
        revoke_sessions=RevokeSessions(revoker=revoker),
        list_sessions=ListSessions(sessions=sessions, clock=clock),
        revoke_session=RevokeSession(sessions=sessions, revoker=revoker, clock=clock),
        import_users=ImportUsers(users=users, clock=clock),
    )
