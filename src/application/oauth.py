"""Sign-in with an OpenID Connect provider: the authorization code flow with PKCE.

RFC 9700 (OAuth 2.0 Security Best Current Practice) decides the shape: a single-use
``state`` kept server-side and bound to the browser that asked (§4.7.1), PKCE with S256
(§2.1.1), a ``nonce`` (§4.5.3), a state good only at the provider it was issued for
(§4.4, mix-up), and a ``return_to`` checked against an allowlist so the callback never
becomes an open redirector (§4.11; OWASP Unvalidated Redirects and Forwards Cheat Sheet).
"""

from __future__ import annotations

import base64
import dataclasses
import hashlib
import hmac
import json
import logging
import re
import secrets
from collections.abc import Collection, Mapping
from dataclasses import dataclass
from datetime import timedelta
from urllib.parse import unquote, urlsplit

from application.client import ClientInfo, audit_event
from application.compensation import quietly
from application.session_issuer import SessionIssuer, SignedIn
from domain.entities import DEFAULT_ROLE, ExternalIdentity, NewUser, User
from domain.errors import (
    DomainError,
    EmailTaken,
    IdentityProviderError,
    IdentityProviderUnavailable,
    InvalidOAuthState,
    InvalidReturnTo,
    StorageUnavailable,
    UnknownProvider,
    UnverifiedEmail,
)
from domain.ports import (
    AuditLog,
    Clock,
    ExternalProfile,
    IdentityProvider,
    OneTimeStore,
    UserRepository,
)
from domain.values import NAME_MAX, Email

log = logging.getLogger("authgate")

STATE_TTL = timedelta(minutes=10)
MAX_RETURN_TO = 512
DEFAULT_RETURN_TO = "/"
_STATE = re.compile(r"[A-Za-z0-9_-]{32,128}")
# RFC 6749 §4.1.2.1 and §5.2: these say our registration or the provider is at fault, not
# the person signing in, so they answer 503 and are logged as errors for an operator.
_NOT_THE_USERS_FAULT = frozenset(
    {"invalid_client", "unauthorized_client", "server_error", "temporarily_unavailable"}
)


@dataclass(frozen=True, slots=True, kw_only=True)
class StartOAuthCommand:
    provider: str
    return_to: str | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class OAuthStarted:
    authorization_url: str
    state: str  # the browser keeps it in a cookie too: that binds the callback to it


@dataclass(frozen=True, slots=True, kw_only=True)
class CompleteOAuthCommand:
    provider: str
    state: str | None
    browser_state: str | None  # what the browser kept at start
    code: str | None
    error: str | None = None
    error_description: str | None = None
    client: ClientInfo


@dataclass(frozen=True, slots=True, kw_only=True)
class OAuthSignedIn:
    signed_in: SignedIn
    return_to: str


@dataclass(frozen=True, slots=True, kw_only=True)
class _Attempt:
    provider: str
    nonce: str
    verifier: str
    return_to: str

    def encode(self) -> bytes:
        return json.dumps(dataclasses.asdict(self)).encode()

    @classmethod
    def decode(cls, raw: bytes) -> _Attempt | None:
        try:
            return cls(**json.loads(raw))
        except (ValueError, TypeError):
            return None


class StartOAuth:
    def __init__(
        self,
        *,
        providers: Mapping[str, IdentityProvider],
        states: OneTimeStore,
        clock: Clock,
        allowlist: Collection[str],
    ) -> None:
        self._providers = providers
        self._states = states
        self._clock = clock
        self._allowlist = allowlist

    async def execute(self, command: StartOAuthCommand) -> OAuthStarted:
        provider = _provider(self._providers, command.provider)
        return_to = allowed_return_to(command.return_to or DEFAULT_RETURN_TO, self._allowlist)
        state = secrets.token_urlsafe(32)
        attempt = _Attempt(
            provider=command.provider,
            nonce=secrets.token_urlsafe(32),
            verifier=secrets.token_urlsafe(48),
            return_to=return_to,
        )
        # Asked before anything is stored: an unreachable provider leaves nothing behind.
        url = await provider.authorization_url(
            state=state, nonce=attempt.nonce, code_challenge=s256(attempt.verifier)
        )
        await self._states.put(_key(state), attempt.encode(), self._clock.now() + STATE_TTL)
        return OAuthStarted(authorization_url=url, state=state)


class CompleteOAuth:
    def __init__(
        self,
        *,
        providers: Mapping[str, IdentityProvider],
        states: OneTimeStore,
        users: UserRepository,
        issuer: SessionIssuer,
        clock: Clock,
        audit: AuditLog,
    ) -> None:
        self._providers = providers
        self._states = states
        self._users = users
        self._issuer = issuer
        self._clock = clock
        self._audit = audit

    async def execute(self, command: CompleteOAuthCommand) -> OAuthSignedIn:
        provider = _provider(self._providers, command.provider)
        attempt = await self._attempt(command)
        try:
            profile = await self._profile(provider, attempt, command)
            user, created = await self._account(profile, command)
        except IdentityProviderError as exc:
            self._audit_failure(command, exc.provider_code)
            raise
        signed_in = await self._sign_in(user, created, profile, command)
        return OAuthSignedIn(signed_in=signed_in, return_to=attempt.return_to)

    async def _attempt(self, command: CompleteOAuthCommand) -> _Attempt:
        state, kept = command.state, command.browser_state
        # RFC 9700 §4.7.1: the state must come back to the browser that started the sign-in,
        # so a callback link crafted from someone else's attempt is refused (login CSRF).
        if not state or not _STATE.fullmatch(state) or kept is None:
            raise InvalidOAuthState()
        if not hmac.compare_digest(state.encode(), kept.encode()):
            raise InvalidOAuthState()
        raw = await self._states.take(_key(state), self._clock.now())
        attempt = _Attempt.decode(raw) if raw is not None else None
        # RFC 9700 §4.4: a state issued for one provider is never accepted by another.
        if attempt is None or attempt.provider != command.provider:
            raise InvalidOAuthState()
        return attempt

    async def _profile(
        self, provider: IdentityProvider, attempt: _Attempt, command: CompleteOAuthCommand
    ) -> ExternalProfile:
        if command.error is not None:
            log.info(
                "%s answered the sign-in with error %r: %r",
                command.provider,
                command.error[:64],
                (command.error_description or "")[:200],
            )
            raise _refusal(command.provider, command.error[:64])
        if not command.code:
            raise InvalidOAuthState()
        try:
            # The only step that talks to the provider, and it comes before any write.
            return await provider.complete(
                code=command.code, code_verifier=attempt.verifier, nonce=attempt.nonce
            )
        except IdentityProviderError as exc:
            raise _refusal(command.provider, exc.provider_code) from exc

    async def _account(
        self, profile: ExternalProfile, command: CompleteOAuthCommand
    ) -> tuple[User, bool]:
        """The user this identity belongs to, and whether it was created just now."""
        known = await self._users.get_by_identity(profile.issuer, profile.subject)
        if known is not None:
            return known, False
        email = _email(profile)
        try:
            return await self._by_email(email, profile, command)
        except EmailTaken:
            # A concurrent sign-in created the account between our lookup and our insert.
            return await self._by_email(email, profile, command)

    async def _by_email(
        self, email: Email, profile: ExternalProfile, command: CompleteOAuthCommand
    ) -> tuple[User, bool]:
        existing = await self._users.get_by_email(email.value)
        # An address the provider has not verified may belong to someone else: linking it
        # would hand them that account, and creating one would let them pre-claim it for
        # whoever verifies the address later. So it neither links nor creates.
        if not profile.email_verified:
            self._audit_failure(command, UnverifiedEmail.code, existing)
            raise UnverifiedEmail()
        if existing is not None:
            return existing, False
        created = await self._users.add(
            NewUser(
                email=email.value,
                password_hash=None,
                name=profile.name[:NAME_MAX] if profile.name else None,
                role=DEFAULT_ROLE,
                created_at=self._clock.now(),
            )
        )
        return created, True

    async def _sign_in(
        self, user: User, created: bool, profile: ExternalProfile, command: CompleteOAuthCommand
    ) -> SignedIn:
        now = self._clock.now()
        try:
            await self._users.link_identity(
                ExternalIdentity(
                    provider=profile.issuer,
                    subject=profile.subject,
                    user_id=user.id,
                    email=profile.email,
                    created_at=now,
                )
            )
            tokens = await self._issuer.start(user, command.client)
        except StorageUnavailable:
            if created:
                # Nothing half-written: an account nobody received tokens for is undone.
                await quietly(self._users.remove(user.id))
            raise
        audit_event(
            self._audit,
            "user_registered" if created else "login_succeeded",
            command.client,
            user_id=user.id,
            session_id=tokens.session_id,
            reason=f"oidc:{command.provider}",
        )
        return SignedIn(user=user, tokens=tokens)

    def _audit_failure(
        self, command: CompleteOAuthCommand, why: str, user: User | None = None
    ) -> None:
        audit_event(
            self._audit,
            "login_failed",
            command.client,
            user_id=user.id if user else None,
            reason=f"oidc:{command.provider}:{why}",
        )


def allowed_return_to(return_to: str, allowlist: Collection[str]) -> str:
    """``return_to`` when it is a local path the allowlist permits; else ``InvalidReturnTo``.

    A local path: one leading "/" (never "//" or "/\\", which browsers read as another
    host), no scheme or host, visible ASCII only (no control characters, nothing to smuggle
    into the Location header), no "." or ".." segment to climb out of an allowed prefix.
    Allowed: "/", an allowlist entry itself, or anything under an entry ending in "/".
    """
    if (
        len(return_to) > MAX_RETURN_TO
        or not return_to.startswith("/")
        or return_to.startswith("//")
        or "\\" in return_to
        or not all("!" <= c <= "~" for c in return_to)
    ):
        raise InvalidReturnTo()
    parts = urlsplit(return_to)
    segments = unquote(parts.path).split("/")
    if parts.scheme or parts.netloc or "." in segments or ".." in segments:
        raise InvalidReturnTo()
    if not _listed(parts.path, allowlist):
        raise InvalidReturnTo()
    return return_to


def _listed(path: str, allowlist: Collection[str]) -> bool:
    return (
        path == DEFAULT_RETURN_TO
        or path in allowlist
        or any(entry.endswith("/") and path.startswith(entry) for entry in allowlist)
    )


def s256(verifier: str) -> str:
    """The PKCE S256 code challenge: BASE64URL(SHA256(verifier)), unpadded (RFC 7636 §4.2)."""
    digest = hashlib.sha256(verifier.encode("ascii")).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")


def _provider(providers: Mapping[str, IdentityProvider], name: str) -> IdentityProvider:
    provider = providers.get(name)
    if provider is None:
        raise UnknownProvider()
    return provider


def _refusal(provider: str, code: str) -> DomainError:
    if code in _NOT_THE_USERS_FAULT:
        log.error(
            "%s sign-in failed with %r: check the provider's status and our client"
            " registration (client id, secret, redirect URI)",
            provider,
            code,
        )
        return IdentityProviderUnavailable()
    return IdentityProviderError(code)


def _email(profile: ExternalProfile) -> Email:
    try:
        return Email.parse(profile.email or "")
    except ValueError:
        raise IdentityProviderError("email_missing") from None


def _key(state: str) -> str:
    return f"oauth:{state}"
