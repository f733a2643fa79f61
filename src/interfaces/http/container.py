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

from application.session_issuer import SessionPolicy
from application.throttle import Limits
from application.wiring import Ports, UseCases, wire
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
from infrastructure.oauth.oidc import OidcProvider
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
    cases: UseCases
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
        # One outbound HTTP client (Turnstile, identity providers), closed with the app.
        http = await stack.enter_async_context(httpx.AsyncClient(trust_env=False))
        keys = load_or_create_keys(Path(settings.keys_file))
        access_tokens = JwtAccessTokens(
            keys.signing,
            issuer=settings.issuer,
            audience=settings.audience,
            client_id=settings.client_id,
            clock=clock.now,
        )
        policy = SessionPolicy(
            access_ttl=timedelta(seconds=settings.access_ttl),
            idle_ttl=timedelta(seconds=settings.refresh_ttl),
            max_age=timedelta(seconds=settings.session_max_age),
            grace=timedelta(seconds=settings.refresh_grace),
        )
        checks: dict[str, Check] = {"database": database.ping}
        if stores.check is not None:
            checks["grants"] = stores.check
        ports = Ports(
            users=SqlUserRepository(database),
            sessions=SqlSessionRepository(database),
            grants=stores.grants,
            one_time=stores.one_time,
            limiter=stores.limiter,
            hasher=Argon2PasswordHasher(),
            captcha=_captcha(settings, http),
            access_tokens=access_tokens,
            refresh_tokens=HmacRefreshTokens(keys.refresh_secret),
            identity_providers=_identity_providers(settings, clock, http),
            clock=clock,
            ids=RandomIds(),
            audit=JsonAuditLog(),
        )
        limits = Limits(
            login=settings.login_limit,
            register=settings.register_limit,
            refresh=settings.refresh_limit,
        )
        yield Container(
            settings=settings,
            cases=wire(
                ports,
                policy=policy,
                limits=limits,
                return_to_allowlist=settings.return_to_allowlist,
            ),
            jwks=access_tokens.jwks(),
            checks=checks,
        )


def _captcha(settings: Settings, http: httpx.AsyncClient) -> CaptchaVerifier:
    if settings.turnstile_secret is None:
        return DisabledCaptcha()
    return TurnstileVerifier(
        http,
        secret=settings.turnstile_secret,
        verify_url=settings.turnstile_verify_url,
        expected_hostname=settings.turnstile_hostname,
        expected_action=settings.turnstile_action,
    )


def _identity_providers(
    settings: Settings, clock: Clock, http: httpx.AsyncClient
) -> dict[str, IdentityProvider]:
    return {
        p.name: OidcProvider(
            http,
            name=p.name,
            discovery_url=p.discovery_url,
            client_id=p.client_id,
            client_secret=p.client_secret,
            redirect_uri=p.redirect_uri,
            issuers=p.issuers,
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
