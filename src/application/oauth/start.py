from __future__ import annotations

import secrets
from collections.abc import Collection, Mapping
from dataclasses import dataclass

from application.client import ClientInfo
from application.oauth.attempts import Attempt, Attempts, s256
from application.oauth.providers import provider_named
from application.oauth.return_to import DEFAULT_RETURN_TO, allowed_return_to
from application.throttle import Throttle
from domain.ports import Clock, IdentityProvider, OneTimeStore


@dataclass(frozen=True, slots=True, kw_only=True)
class StartOAuthCommand:
    provider: str
    client: ClientInfo
    return_to: str | None = None
    # A sign-in that must be a recent proof (step-up of an account with no password): the
    # provider authenticates the user again if their last sign-in there is older.
    max_age: int | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class OAuthStarted:
    authorization_url: str
    state: str  # the browser keeps it in a cookie too: that binds the callback to it


class StartOAuth:
    def __init__(
        self,
        *,
        providers: Mapping[str, IdentityProvider],
        states: OneTimeStore,
        clock: Clock,
        allowlist: Collection[str],
        throttle: Throttle,
    ) -> None:
        self._throttle = throttle
        self._providers = providers
        self._attempts = Attempts(states, clock)
        self._allowlist = allowlist

    async def execute(self, command: StartOAuthCommand) -> OAuthStarted:
        provider = provider_named(self._providers, command.provider)
        return_to = allowed_return_to(command.return_to or DEFAULT_RETURN_TO, self._allowlist)
        # Each start stores its state for ten minutes: one address may begin as many
        # sign-ins as it may make (else a loop of starts fills the store).
        await self._throttle.sign_in_begun(command.client)
        state = secrets.token_urlsafe(32)
        attempt = Attempt.new(command.provider, return_to, command.max_age)
        # Asked before anything is stored: an unreachable provider leaves nothing behind.
        url = await provider.authorization_url(
            state=state,
            nonce=attempt.nonce,
            code_challenge=s256(attempt.verifier),
            max_age=command.max_age,
        )
        await self._attempts.keep(state, attempt)
        return OAuthStarted(authorization_url=url, state=state)
