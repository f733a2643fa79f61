"""Wiring: adapters chosen from the settings, use cases built on them. Used only by
``create_app`` and the CLI, so there is exactly one place that knows every concrete class."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import AsyncExitStack, asynccontextmanager
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx

from application.authenticate import Authenticate, GetCurrentUser
from application.common import SessionIssuer, SessionPolicy
from application.import_users import ImportUsers
from application.login import Login
from application.logout import Logout
from application.oauth import CompleteOAuth, StartOAuth
from application.refresh import RefreshSession
from application.register import RegisterUser
from application.revocation import SessionRevoker
from application.sessions import ListSessions, RevokeSession, RevokeSessions
from application.throttle import Limits, Throttle
from domain.ports import (
    CaptchaVerifier,
    Clock,
    IdentityProvider,
    OneTimeStore,
    RateLimiter,
    RefreshGrantStore,
)
from infrastructure.audit import JsonAuditLog
from infrastructure.captcha.turnstile import DisabledCaptcha, TurnstileVerifier
from infrastructure.config import Settings
from infrastructure.grants.memory import MemoryGrantStore, MemoryOneTimeStore, MemoryRateLimiter
from infrastructure.grants.sql import SqlGrantStore, SqlOneTimeStore, SqlRateLimiter
from infrastructure.oauth.oidc import GOOGLE_DISCOVERY_URL, GOOGLE_ISSUERS, OidcProvider
from infrastructure.persistence import migrations
from infrastructure.persistence.database import Database
from infrastructure.persistence.postgres import PostgresDatabase
from infrastructure.persistence.sessions import SqlSessionRepository
from infrastructure.persistence.sqlite import SqliteDatabase
from infrastructure.persistence.users import SqlUserRepository
from infrastructure.security.keys import load_or_create_keys
from infrastructure.security.passwords import Argon2PasswordHasher
from infrastructure.security.refresh_tokens import HmacRefreshTokens
from infrastructure.security.tokens import JwtAccessTokens
from infrastructure.system import RandomIds, SystemClock

Check = Callable[[], Awaitable[None]]


@dataclass(frozen=True, slots=True, kw_only=True)
class Container:
    settings: Settings
    clock: Clock
    register: RegisterUser
    login: Login
    refresh: RefreshSession
    authenticate: Authenticate
    current_user: GetCurrentUser
    logout: Logout
    revoke: RevokeSessions
    list_sessions: ListSessions
    revoke_session: RevokeSession
    import_users: ImportUsers
    start_oauth: StartOAuth
    complete_oauth: CompleteOAuth
    jwks: dict[str, Any]
    checks: dict[str, Check]


def open_database(settings: Settings) -> Database:
    path = settings.sqlite_path
    if path is not None:
        return SqliteDatabase(path)
    return PostgresDatabase(settings.database_url)


@dataclass(frozen=True, slots=True)
class _KeyedStores:
    grants: RefreshGrantStore
    one_time: OneTimeStore
    limiter: RateLimiter
    check: Check | None


async def _keyed_stores(
    settings: Settings, database: Database, stack: AsyncExitStack
) -> _KeyedStores:
    if settings.grants_url == "database":
        return _KeyedStores(
            SqlGrantStore(database), SqlOneTimeStore(database), SqlRateLimiter(database), None
        )
    if settings.grants_url == "memory://":
        grants = MemoryGrantStore()
        return _KeyedStores(grants, MemoryOneTimeStore(), MemoryRateLimiter(), None)
    from infrastructure.grants.valkey import (
        ValkeyGrantStore,
        ValkeyOneTimeStore,
        ValkeyRateLimiter,
        open_valkey,
        parse_valkey_url,
    )

    url, prefix = parse_valkey_url(settings.grants_url)
    client = open_valkey(url)
    stack.push_async_callback(client.aclose)
    valkey_grants = ValkeyGrantStore(client, prefix)
    return _KeyedStores(
        valkey_grants,
        ValkeyOneTimeStore(client, prefix),
        ValkeyRateLimiter(client, prefix),
        valkey_grants.ping,
    )


@asynccontextmanager
async def open_container(
    settings: Settings, *, clock: Clock | None = None
) -> AsyncIterator[Container]:
    """Open every resource, yield the wired use cases, close them in reverse order."""
    clock = clock or SystemClock()
    async with AsyncExitStack() as stack:
        database = open_database(settings)
        stack.push_async_callback(database.close)
        stores = await _keyed_stores(settings, database, stack)
        keys = load_or_create_keys(Path(settings.keys_file))
        access_tokens = JwtAccessTokens(
            keys.signing, issuer=settings.issuer, audience=settings.audience, clock=clock.now
        )
        refresh_tokens = HmacRefreshTokens(keys.refresh_secret)
        users = SqlUserRepository(database)
        sessions = SqlSessionRepository(database)
        hasher = Argon2PasswordHasher()
        audit = JsonAuditLog()
        policy = SessionPolicy(
            access_ttl=timedelta(seconds=settings.access_ttl),
            idle_ttl=timedelta(seconds=settings.refresh_ttl),
            max_age=timedelta(seconds=settings.session_max_age),
            grace=timedelta(seconds=settings.refresh_grace),
        )
        issuer = SessionIssuer(
            sessions=sessions,
            grants=stores.grants,
            access_tokens=access_tokens,
            refresh_tokens=refresh_tokens,
            clock=clock,
            ids=RandomIds(),
            policy=policy,
        )
        revoker = SessionRevoker(
            sessions=sessions, grants=stores.grants, issuer=issuer, clock=clock, audit=audit
        )
        captcha = await _captcha(settings, stack)
        providers = await _identity_providers(settings, clock, stack)
        throttle = Throttle(
            limiter=stores.limiter,
            limits=Limits(
                login=settings.login_limit,
                register=settings.register_limit,
                refresh=settings.refresh_limit,
            ),
            clock=clock,
            audit=audit,
        )
        checks: dict[str, Check] = {"database": database.ping}
        if stores.check is not None:
            checks["grants"] = stores.check
        yield Container(
            settings=settings,
            clock=clock,
            register=RegisterUser(
                users=users,
                hasher=hasher,
                captcha=captcha,
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
                grants=stores.grants,
                refresh_tokens=refresh_tokens,
                issuer=issuer,
                throttle=throttle,
                clock=clock,
                audit=audit,
            ),
            authenticate=Authenticate(
                access_tokens=access_tokens, grants=stores.grants, clock=clock
            ),
            current_user=GetCurrentUser(users=users),
            logout=Logout(
                grants=stores.grants, refresh_tokens=refresh_tokens, revoker=revoker, clock=clock
            ),
            revoke=RevokeSessions(revoker=revoker),
            list_sessions=ListSessions(sessions=sessions, clock=clock),
            revoke_session=RevokeSession(sessions=sessions, revoker=revoker, clock=clock),
            import_users=ImportUsers(users=users, clock=clock),
            start_oauth=StartOAuth(
                providers=providers,
                states=stores.one_time,
                clock=clock,
                allowlist=settings.return_to_allowlist,
            ),
            complete_oauth=CompleteOAuth(
                providers=providers,
                states=stores.one_time,
                users=users,
                issuer=issuer,
                clock=clock,
                audit=audit,
            ),
            jwks=access_tokens.jwks(),
            checks=checks,
        )


async def _captcha(settings: Settings, stack: AsyncExitStack) -> CaptchaVerifier:
    if settings.turnstile_secret is None:
        return DisabledCaptcha()
    client = await stack.enter_async_context(httpx.AsyncClient(trust_env=False))
    return TurnstileVerifier(
        client,
        secret=settings.turnstile_secret,
        verify_url=settings.turnstile_verify_url,
        expected_hostname=settings.turnstile_hostname,
        expected_action=settings.turnstile_action,
    )


async def _identity_providers(
    settings: Settings, clock: Clock, stack: AsyncExitStack
) -> dict[str, IdentityProvider]:
    if not settings.oidc_providers:
        return {}
    client = await stack.enter_async_context(httpx.AsyncClient(trust_env=False))
    return {
        p.name: OidcProvider(
            client,
            name=p.name,
            discovery_url=p.discovery_url,
            client_id=p.client_id,
            client_secret=p.client_secret,
            redirect_uri=p.redirect_uri,
            issuers=GOOGLE_ISSUERS if p.discovery_url == GOOGLE_DISCOVERY_URL else None,
            clock=clock.now,
        )
        for p in settings.oidc_providers
    }


async def migrate(settings: Settings) -> list[str]:
    database = open_database(settings)
    try:
        return await migrations.migrate(database)
    finally:
        await database.close()
