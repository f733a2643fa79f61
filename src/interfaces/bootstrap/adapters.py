"""Every port's adapter, chosen by the settings: the backends (``backends``), the outbound
services on one HTTP client, the mailer, the keys, and the meters around them."""

from __future__ import annotations

import asyncio
import os
from collections.abc import Awaitable, Callable
from contextlib import AsyncExitStack
from dataclasses import dataclass, replace
from pathlib import Path

import httpx

from domain.ports import (
    BreachedPasswords,
    CaptchaVerifier,
    Clock,
    IdentityProvider,
    Mailer,
)
from infrastructure.audit import JsonAuditLog
from infrastructure.captcha.turnstile import DisabledCaptcha, TurnstileVerifier
from infrastructure.config import Settings
from infrastructure.mail.log_mailer import LogMailer
from infrastructure.mail.smtp import SmtpMailer
from infrastructure.metered import (
    MeteredAuditLog,
    MeteredBreachedPasswords,
    MeteredCaptcha,
    MeteredGrantStore,
    MeteredOutboxDelivery,
    MeteredWebhookOutbox,
    MeteredWebhookTransport,
)
from infrastructure.oauth.oidc import OidcProvider
from infrastructure.persistence.activity import SqlMailHistory, SqlSecurityActivity
from infrastructure.persistence.administration import SqlUserAdministration
from infrastructure.persistence.devices import SqlKnownDevices
from infrastructure.persistence.mail_work import SqlMailUnitOfWork
from infrastructure.persistence.outbox import SqlOutboxDelivery
from infrastructure.persistence.passkeys import SqlPasskeyAccounts, SqlPasskeys
from infrastructure.persistence.profiles import CachedProfiles
from infrastructure.persistence.second_factor import SqlRecoveryCodes, SqlTotpCredentials
from infrastructure.persistence.security_events import SqlSecurityEvents
from infrastructure.persistence.sessions import SqlSessionIdsOfUser, SqlSessionRepository
from infrastructure.persistence.users import SqlUserRepository
from infrastructure.persistence.webhooks import SqlWebhookEndpoints, SqlWebhookOutbox
from infrastructure.persistence.write_behind import WriteBehindSessions
from infrastructure.security.keys import load_or_create_keys
from infrastructure.security.passwords import Argon2PasswordHasher
from infrastructure.security.pwned_passwords import NoBreachCheck, PwnedPasswordsRange
from infrastructure.security.refresh_tokens import HmacRefreshTokens
from infrastructure.security.reloading_tokens import ReloadingAccessTokens
from infrastructure.security.secret_box import AesGcmSecretBox
from infrastructure.security.secrets_key import load_or_create_secrets_key
from infrastructure.security.tokens import JwtAccessTokens
from infrastructure.security.totp import PyOtpPasswords
from infrastructure.security.webauthn import WebAuthnCeremonies
from infrastructure.system import RandomIds
from infrastructure.webhooks.http import HttpWebhookTransport
from interfaces.bootstrap.backends import Check, open_database, open_keyed_stores
from interfaces.bootstrap.ports import Ports


@dataclass(frozen=True, slots=True, kw_only=True)
class Opened:
    ports: Ports
    checks: dict[str, Check]  # what /health/ready asks, by name
    sessions: WriteBehindSessions  # its writer runs beside the requests
    # Keeps this process's copy of the session denylist true, beside the requests (Valkey).
    follow_denylist: Callable[[asyncio.Event], Awaitable[None]] | None = None


async def open_ports(settings: Settings, clock: Clock, stack: AsyncExitStack) -> Opened:
    """Every adapter, its resources closed by ``stack`` in reverse order."""
    database = open_database(settings)
    stack.push_async_callback(database.close)
    stores = await open_keyed_stores(settings, database, stack, SqlSessionIdsOfUser(database))
    sessions = WriteBehindSessions(
        SqlSessionRepository(database, signals=bool(settings.ssf_receivers)), clock
    )
    stack.push_async_callback(sessions.flush_all)  # its last writes, before the database closes
    # One outbound HTTP client (Turnstile, identity providers, Pwned Passwords, webhooks).
    http = await stack.enter_async_context(httpx.AsyncClient(trust_env=False))
    keys_file = Path(settings.keys_file)
    keys = load_or_create_keys(keys_file)
    box = AesGcmSecretBox(load_or_create_secrets_key(settings.secrets_key_path))
    users = CachedProfiles(SqlUserRepository(database))
    # One key set signs the access tokens and the security events (SETs) alike.
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
    ports = Ports(
        users=users,
        profiles=users,
        administration=SqlUserAdministration(database, changed=users.forget),
        sessions=sessions,
        devices=SqlKnownDevices(database),
        grants=stores.grants,
        integrity=stores.integrity,
        recovery_grants=stores.recovery_grants,
        expired=stores.expired,
        one_time=stores.one_time,
        limiter=stores.limiter,
        hasher=Argon2PasswordHasher(concurrency=_hashing_slots(settings.workers)),
        captcha=_captcha(settings, http),
        access_tokens=access_tokens,
        refresh_tokens=HmacRefreshTokens(keys.refresh_secret),
        identity_providers=_identity_providers(settings, clock, http),
        clock=clock,
        ids=RandomIds(),
        audit=JsonAuditLog(),
        activity=SqlSecurityActivity(database),
        mail_history=SqlMailHistory(database),
        mail=SqlMailUnitOfWork(database, changed=users.forget),
        outbox=SqlOutboxDelivery(database),
        mailer=_mailer(settings),
        totp=SqlTotpCredentials(database),
        recovery_codes=SqlRecoveryCodes(database),
        passkeys=SqlPasskeys(database),
        passkey_accounts=SqlPasskeyAccounts(database),
        secret_box=box,
        otp=PyOtpPasswords(),
        ceremonies=WebAuthnCeremonies(
            rp_id=settings.rp_id, rp_name=settings.rp_name, origins=settings.rp_origins
        ),
        breaches=_breaches(settings, http),
        webhook_endpoints=SqlWebhookEndpoints(database, box),
        webhook_outbox=SqlWebhookOutbox(database, box),
        security_events=SqlSecurityEvents(database),
        event_signer=access_tokens,
        webhook_transport=HttpWebhookTransport(
            http,
            allow_http=settings.webhook_allow_http,
            allow_private=settings.webhook_allow_private,
        ),
    )
    checks: dict[str, Check] = {"database": database.ping}
    if stores.check is not None:
        checks["grants"] = stores.check
    return Opened(
        ports=_metered(settings, ports),
        checks=checks,
        sessions=sessions,
        follow_denylist=stores.follow,
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


def _breaches(settings: Settings, http: httpx.AsyncClient) -> BreachedPasswords:
    if not settings.pwned_check:
        return NoBreachCheck()
    return PwnedPasswordsRange(http, url=settings.pwned_url)


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


def _mailer(settings: Settings) -> Mailer:
    if settings.smtp_url is None:
        return LogMailer()  # each mail's log line says it was not sent, and why
    return SmtpMailer(settings.smtp_url, settings.mail_from)


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
        webhook_outbox=MeteredWebhookOutbox(ports.webhook_outbox),
        webhook_transport=MeteredWebhookTransport(ports.webhook_transport),
        breaches=MeteredBreachedPasswords(ports.breaches)
        if settings.pwned_check
        else ports.breaches,
    )
