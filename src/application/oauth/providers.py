"""The configured providers, and what their refusals mean."""

from __future__ import annotations

import logging
from collections.abc import Mapping

from domain.errors import IdentityProviderError, IdentityProviderUnavailable, UnknownProvider
from domain.ports import IdentityProvider
from domain.ports.identity import refusal

log = logging.getLogger("authgate")


def provider_named(providers: Mapping[str, IdentityProvider], name: str) -> IdentityProvider:
    provider = providers.get(name)
    if provider is None:
        raise UnknownProvider()
    return provider


def refused(
    provider: str, provider_code: str
) -> IdentityProviderError | IdentityProviderUnavailable:
    """The error to raise for ``provider_code``; one an operator must fix is logged as such."""
    error = refusal(provider_code)
    if isinstance(error, IdentityProviderUnavailable):
        log.error(
            "%s sign-in failed with %r: check the provider's status and our client"
            " registration (client id, secret, redirect URI)",
            provider,
            provider_code,
        )
    return error
