"""Outbound services: the captcha verifier and the identity providers, on one shared
HTTP client."""

from __future__ import annotations

import httpx

from domain.ports import CaptchaVerifier, Clock, IdentityProvider
from infrastructure.captcha.turnstile import DisabledCaptcha, TurnstileVerifier
from infrastructure.config import Settings
from infrastructure.oauth.oidc import OidcProvider


def captcha(settings: Settings, http: httpx.AsyncClient) -> CaptchaVerifier:
    if settings.turnstile_secret is None:
        return DisabledCaptcha()
    return TurnstileVerifier(
        http,
        secret=settings.turnstile_secret,
        verify_url=settings.turnstile_verify_url,
        expected_hostname=settings.turnstile_hostname,
        expected_action=settings.turnstile_action,
    )


def identity_providers(
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
