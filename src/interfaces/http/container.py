"""Wiring: adapters chosen from the settings (here, in ``backends`` and in ``outbound``), use
cases built on them. Used only by ``create_app`` and the CLI: one place knows every concrete
class."""

from __future__ import annotations

import os
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, asynccontextmanager
from dataclasses import dataclass, replace
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx

from application.admin import AdminCases, AdminPorts, wire_admin
from application.grant_recovery import RecoverLostGrants
from application.housekeeping import PurgeExpired
from application.introspection import IntrospectionPolicy, TokenContext
from application.session_issuer import SessionPolicy
from application.throttle import Limits
from application.wiring import Ports, UseCases, wire
from domain.ports import AccessTokens, Clock
from infrastructure.audit import JsonAuditLog
from infrastructure.config import Settings
from infrastructure.metered import (
    MeteredAuditLog,
    MeteredCaptcha,
    MeteredGrantStore,
    MeteredOutboxDelivery,
)
from infrastructure.persistence.administration import SqlUserAdministration
from infrastructure.persistence.mail_work import SqlMailUnitOfWork
from infrastructure.persistence.outbox import SqlOutboxDelivery
from infrastructure.persistence.passkeys import SqlPasskeys
from infrastructure.persistence.profiles import CachedProfiles
from infrastructure.persistence.second_factor import SqlRecoveryCodes, SqlTotpCredentials
from infrastructure.persistence.sessions import SqlSessionIdsOfUser, SqlSessionRepository
from infrastructure.persistence.users import SqlUserRepository
from infrastructure.persistence.write_behind import WriteBehindSessions
from infrastructure.security.keys import load_or_create_keys
from infrastructure.security.passwords import Argon2PasswordHasher
from infrastructure.security.refresh_tokens import HmacRefreshTokens
from infrastructure.security.reloading_tokens import ReloadingAccessTokens
from infrastructure.security.secret_box import AesGcmSecretBox
from infrastructure.security.secrets_key import load_or_create_secrets_key
from infrastructure.security.tokens import JwtAccessTokens
from infrastructure.security.totp import PyOtpPasswords
from infrastructure.security.webauthn import WebAuthnCeremonies
from infrastructure.system import RandomIds, SystemClock
from interfaces.http.backends import Check, open_database, open_keyed_stores
from interfaces.http.grant_watch import watching
from interfaces.http.mail import delivery_policy, mail_policy, mailer
from interfaces.http.outbound import captcha, identity_providers


@dataclass(frozen=True, slots=True, kw_only=True)
class Container:
    settings: Settings
    cases: UseCases
    admin: AdminCases
    access_tokens: AccessTokens
    checks: dict[str, Check]
    purge: PurgeExpired

    @property
    def jwks(self) -> dict[str, Any]:
        return self.access_tokens.jwks()


@asynccontextmanager
async def open_container(
    settings: Settings, *, clock: Clock | None = None
) -> AsyncIterator[Container]:
    """Open every resource, yield the wired use cases, close them in reverse order."""
    clock = clock or SystemClock()
    async with AsyncExitStack() as stack:
        database = open_database(settings)
        stack.push_async_callback(database.close)
        max_age = timedelta(seconds=settings.session_max_age)
        user_sessions = SqlSessionIdsOfUser(database, max_age, clock)
        stores = await open_keyed_stores(settings, database, stack, user_sessions)
        sessions = WriteBehindSessions(SqlSessionRepository(database), clock)
        await stack.enter_async_context(sessions.running())  # its last writes before close
        # One outbound HTTP client (Turnstile, identity providers), closed with the app.
        http = await stack.enter_async_context(httpx.AsyncClient(trust_env=False))
        keys_file = Path(settings.keys_file)
        keys = load_or_create_keys(keys_file)
        access_tokens = ReloadingAccessTokens(
            keys_file,
            lambda signing: JwtAccessTokens(
                signing,
                issuer=settings.issuer,
                audience=settings.audience,
                client_id=settings.client_id,
                clock=clock.now,
            ),
        )
        policy = SessionPolicy(
            access_ttl=timedelta(seconds=settings.access_ttl),
            idle_ttl=timedelta(seconds=settings.refresh_ttl),
            max_age=max_age,
            grace=timedelta(seconds=settings.refresh_grace),
        )
        checks: dict[str, Check] = {"database": database.ping}
        if stores.check is not None:
            checks["grants"] = stores.check
        users = CachedProfiles(SqlUserRepository(database))
        ports = Ports(
            users=users,
            profiles=users,
            sessions=sessions,
            grants=stores.grants,
            one_time=stores.one_time,
            limiter=stores.limiter,
            hasher=Argon2PasswordHasher(concurrency=_hashing_slots(settings.workers)),
            captcha=captcha(settings, http),
            access_tokens=access_tokens,
            refresh_tokens=HmacRefreshTokens(keys.refresh_secret),
            identity_providers=identity_providers(settings, clock, http),
            clock=clock,
            ids=RandomIds(),
            audit=JsonAuditLog(),
            mail=SqlMailUnitOfWork(database, changed=users.forget),
            outbox=SqlOutboxDelivery(database),
            mailer=mailer(settings),
            totp=SqlTotpCredentials(database),
            recovery_codes=SqlRecoveryCodes(database),
            passkeys=SqlPasskeys(database),
            secret_box=AesGcmSecretBox(load_or_create_secrets_key(settings.secrets_key_path)),
            otp=PyOtpPasswords(),
            ceremonies=WebAuthnCeremonies(
                rp_id=settings.rp_id, rp_name=settings.rp_name, origins=settings.rp_origins
            ),
        )
        ports = _metered(settings, ports)
        recovery = RecoverLostGrants(
            integrity=stores.integrity,
            grants=stores.recovery_grants,
            sessions=ports.sessions,
            policy=policy,
            clock=clock,
            audit=ports.audit,
        )
        await stack.enter_async_context(watching(recovery))  # stops before the stores close
        limits = Limits(
            login=settings.login_limit,
            register=settings.register_limit,
            refresh=settings.refresh_limit,
            forgot=settings.forgot_limit,
        )
        admin = AdminPorts(
            users=ports.users,
            administration=SqlUserAdministration(database, changed=users.forget),
            sessions=ports.sessions,
            grants=ports.grants,
            limiter=ports.limiter,
            totp=ports.totp,
            passkeys=ports.passkeys,
            clock=clock,
            audit=ports.audit,
        )
        yield Container(
            settings=settings,
            cases=wire(
                ports,
                policy=policy,
                limits=limits,
                return_to_allowlist=settings.return_to_allowlist,
                mail_policy=mail_policy(settings),
                delivery=delivery_policy(settings),
                introspection=IntrospectionPolicy(
                    context=TokenContext(
                        issuer=settings.issuer,
                        audience=settings.audience,
                        client_id=settings.client_id,
                    ),
                    secrets=settings.introspection_secrets,
                ),
            ),
            admin=wire_admin(admin, policy=policy, limits=limits),
            access_tokens=access_tokens,
            checks=checks,
            purge=PurgeExpired(
                sessions=ports.sessions,
                grants=stores.expired,
                mail=ports.mail,
                outbox=ports.outbox,
                policy=policy,
                clock=clock,
            ),
        )


def _hashing_slots(workers: int) -> int:
    """Password hashes at once in this process: its share of the machine's cores."""
    return max(1, (os.cpu_count() or 1) // workers)


def _metered(settings: Settings, ports: Ports) -> Ports:
    """With AUTH_METRICS on, the ports whose traffic the auth series count are decorated."""
    if not settings.metrics:
        return ports
    return replace(
        ports,
        grants=MeteredGrantStore(ports.grants),
        captcha=MeteredCaptcha(ports.captcha),
        audit=MeteredAuditLog(ports.audit),
        outbox=MeteredOutboxDelivery(ports.outbox),
    )
