"""The one composition root: settings in, the object graph out, every resource opened and
closed in one async context. The HTTP app, the CLI and the tests all start here; only the
HTTP lifespan starts the loops that run beside the requests (``Service.loops``)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from contextlib import AsyncExitStack, asynccontextmanager
from dataclasses import dataclass
from datetime import timedelta

from application.email.messages import MailPolicy
from application.email.sender import DeliveryPolicy
from application.introspection import IntrospectionPolicy, TokenContext
from application.session_policy import SessionPolicy
from application.signals import SignalPolicy
from application.throttle import Limits
from application.webhooks.sender import WebhookPolicy
from domain.ports import AccessTokens, Clock
from infrastructure.config import Settings
from infrastructure.system import SystemClock
from interfaces.bootstrap.adapters import open_ports
from interfaces.bootstrap.backends import Check
from interfaces.bootstrap.ports import Policies, Ports
from interfaces.bootstrap.use_cases import UseCases, build

__all__ = ["Check", "Loop", "Policies", "Ports", "Service", "UseCases", "build", "open_service"]


@dataclass(frozen=True, slots=True)
class Loop:
    """Work beside the requests: ``run(stop)`` until ``stop`` is set."""

    name: str
    run: Callable[[asyncio.Event], Awaitable[None]]


@dataclass(frozen=True, slots=True, kw_only=True)
class Service:
    settings: Settings
    cases: UseCases
    access_tokens: AccessTokens
    checks: Mapping[str, Check]  # what /health/ready asks, by name
    loops: tuple[Loop, ...]


@asynccontextmanager
async def open_service(settings: Settings, *, clock: Clock | None = None) -> AsyncIterator[Service]:
    """Open every resource, build every use case, close the resources in reverse order."""
    clock = clock or SystemClock()
    async with AsyncExitStack() as stack:
        opened = await open_ports(settings, clock, stack)
        cases = build(opened.ports, policies(settings))
        # Its last rows, before the database closes.
        stack.push_async_callback(cases.record_activity.flush_quietly)
        yield Service(
            settings=settings,
            cases=cases,
            access_tokens=opened.ports.access_tokens,
            checks=opened.checks,
            loops=(
                Loop("authgate-grant-recovery", cases.recover_grants.run),
                Loop("authgate-outbox-sender", cases.send_outboxes.run),
                Loop("authgate-housekeeping", cases.purge_expired.run),
                Loop("authgate-session-touches", opened.sessions.run),
                Loop("authgate-security-activity", cases.record_activity.run),
                *(
                    [Loop("authgate-session-denylist", opened.follow_denylist)]
                    if opened.follow_denylist is not None
                    else []
                ),
            ),
        )


SIGNAL_SLACK = timedelta(minutes=1)  # clocks of resource servers a little behind ours


def policies(settings: Settings) -> Policies:
    return Policies(
        session=SessionPolicy(
            access_ttl=timedelta(seconds=settings.access_ttl),
            idle_ttl=timedelta(seconds=settings.refresh_ttl),
            max_age=timedelta(seconds=settings.session_max_age),
            grace=timedelta(seconds=settings.refresh_grace),
            reauth_max_age=timedelta(seconds=settings.reauth_max_age),
        ),
        limits=Limits(
            login=settings.login_limit,
            register=settings.register_limit,
            refresh=settings.refresh_limit,
            forgot=settings.forgot_limit,
            mfa_failures=settings.mfa_failure_limit,
        ),
        mail=MailPolicy(
            product=settings.product_name,
            verify_url=settings.verify_email_url or settings.mail_link("verify-email"),
            reset_url=settings.reset_password_url or settings.mail_link("reset-password"),
            sign_in_url=settings.email_signin_url or settings.mail_link("email-sign-in"),
            secure_url=settings.secure_account_url or settings.mail_link("secure-account"),
            change_url=settings.email_change_url or settings.mail_link("change-email"),
            require_verified=settings.require_verified_email,
        ),
        webhooks=WebhookPolicy(allow_http=settings.webhook_allow_http),
        delivery=DeliveryPolicy(
            give_up_after=timedelta(seconds=settings.outbox_give_up_after),
            poll_interval=settings.outbox_poll_interval,
        ),
        introspection=IntrospectionPolicy(
            context=TokenContext(
                issuer=settings.issuer, audience=settings.audience, client_id=settings.client_id
            ),
            secrets=settings.introspection_secrets,
        ),
        signals=SignalPolicy(
            issuer=settings.issuer,
            # Past an access token's lifetime every token of an ended session has expired.
            keep=timedelta(seconds=settings.access_ttl) + SIGNAL_SLACK,
        ),
        signals_receivers=settings.ssf_secrets,
        email_sign_up=settings.email_signup,
        activity_retention=timedelta(days=settings.activity_retention_days),
        return_to_allowlist=settings.return_to_allowlist,
        trusted_amr=tuple(p.name for p in settings.oidc_providers if p.trust_amr),
    )
