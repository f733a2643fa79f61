"""Every use case, built by the service's own composition root (``interfaces.bootstrap``),
on in-memory fakes and the real (pure CPU) token adapters."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, fields, replace
from datetime import timedelta
from typing import Any, TypedDict

from joserfc.jwk import ECKey, KeySet

from application.authenticate import UncachedProfiles
from application.client import ClientInfo
from application.email.messages import MailPolicy
from application.email.queue import MailQueue
from application.email.sender import DeliveryPolicy
from application.introspection import IntrospectionPolicy, TokenContext
from application.login import LoginCommand
from application.mfa.attempts import MfaAttempts
from application.mfa.factors import SecondFactors
from application.mfa.passkey_sign_in import PasskeySignInCommand
from application.mfa.planted import FactorRemoval, MailboxProof
from application.mfa.sign_in import SecondFactorGate
from application.passkey_sign_up import FinishPasskeySignUpCommand, PasskeySignUpCommand
from application.refresh import RefreshCommand
from application.register import AwaitingVerification, RegisterCommand
from application.revocation import SessionRevoker
from application.session_issuer import IssuedTokens, PasswordSignIn, SessionIssuer, SignedIn
from application.session_policy import SessionPolicy
from application.signals import SignalPolicy
from application.throttle import Limits
from application.webhooks.sender import WebhookPolicy
from domain import assurance
from domain.assurance import Assurance
from domain.errors import StorageUnavailable
from domain.ports import AccessClaims, CaptchaVerifier
from infrastructure.grants.memory import (
    MemoryGrantStore,
    MemoryOneTimeStore,
    MemoryRateLimiter,
)
from infrastructure.security.refresh_tokens import HmacRefreshTokens
from infrastructure.security.secret_box import AesGcmSecretBox
from infrastructure.security.tokens import JwtAccessTokens
from infrastructure.security.totp import PyOtpPasswords
from infrastructure.security.webauthn import WebAuthnCeremonies
from interfaces.bootstrap import Policies, Ports, UseCases, build
from interfaces.bootstrap.use_cases import session_services
from tests.fakes.activity import MemoryMailHistory, MemorySecurityActivity
from tests.fakes.authenticator import SoftAuthenticator
from tests.fakes.breaches import FakeBreaches
from tests.fakes.clock import FakeClock
from tests.fakes.devices import MemoryKnownDevices
from tests.fakes.mail import MemoryMail, RecordingMailer
from tests.fakes.repositories import (
    MemorySessionRepository,
    MemoryUserAdministration,
    MemoryUserRepository,
)
from tests.fakes.second_factor import (
    MemoryPasskeyAccounts,
    MemoryPasskeys,
    MemoryRecoveryCodes,
    MemoryTotpCredentials,
)
from tests.fakes.security import AcceptingCaptcha, FakeHasher, RecordingAudit, SequentialIds
from tests.fakes.signals import MemorySecurityEvents
from tests.fakes.webhooks import EmptyWebhookOutbox, MemoryWebhookEndpoints, NoWebhookTransport

ISSUER = "https://auth.example.test"
AUDIENCE = "authgate-tests"
PASSWORD = "correct horse"
INTROSPECTION_SECRETS = {"orders": "orders-secret-0123456789abcdefghijkl"}
SIGNAL_RECEIVERS = {"orders": "orders-bearer-0123456789abcdefghijklmn"}
SIGNAL_STREAMS = 3  # streams one receiver may hold
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


@dataclass(frozen=True, slots=True, kw_only=True)
class World(UseCases):
    """Every use case (from the same ``build`` the service uses) and the fakes behind them."""

    clock: FakeClock
    users: MemoryUserRepository
    sessions: MemorySessionRepository
    devices: MemoryKnownDevices
    grants: MemoryGrantStore
    hasher: FakeHasher
    audit: RecordingAudit
    access_tokens: JwtAccessTokens
    refresh_tokens: HmacRefreshTokens
    mail: MemoryMail
    mailer: RecordingMailer
    totp: MemoryTotpCredentials
    recovery_codes: MemoryRecoveryCodes
    passkeys: MemoryPasskeys
    breaches: FakeBreaches
    security_events: MemorySecurityEvents
    activity: MemorySecurityActivity
    # Shared by several use cases; built here again for the tests that drive them directly.
    issuer: SessionIssuer
    revoker: SessionRevoker
    proof: MailboxProof
    gate: SecondFactorGate

    async def sign_up(self, email: str = "ada@example.test", password: str = PASSWORD) -> SignedIn:
        registered = await self.register.execute(
            RegisterCommand(
                email=email, password=password, name="Ada", captcha_token="ok", client=CLIENT
            )
        )
        assert not isinstance(registered, AwaitingVerification)
        return registered

    async def sign_up_with_passkey(
        self, authenticator: SoftAuthenticator, email: str = "ada@example.test"
    ) -> SignedIn:
        """A passkey-first account: the address, then the authenticator's new passkey."""
        options = await self.start_passkey_sign_up.execute(
            PasskeySignUpCommand(email=email, name="Ada", captcha_token="ok", client=CLIENT)
        )
        signed_up = await self.finish_passkey_sign_up.execute(
            FinishPasskeySignUpCommand(
                credential=authenticator.create(dict(options)), client=CLIENT
            )
        )
        assert not isinstance(signed_up, AwaitingVerification)
        return signed_up

    async def sign_in_with_passkey(self, authenticator: SoftAuthenticator) -> str:
        """Another sign-in with the authenticator's last passkey: its access token."""
        options = await self.start_passkey_sign_in.execute(CLIENT)
        signed_in = await self.finish_passkey_sign_in.execute(
            PasskeySignInCommand(credential=authenticator.get(dict(options)), client=CLIENT)
        )
        return signed_in.tokens.access_token

    def grants_down_once(self) -> None:
        """The grant store fails the next time a user's sessions are ended (a backend down
        in the middle of a flow), then works again."""
        real_revoke_user = self.grants.revoke_user
        failures = [StorageUnavailable("valkey")]

        async def down_once(*args: Any) -> list[str]:
            if failures:
                raise failures.pop()
            return await real_revoke_user(*args)

        self.grants.revoke_user = down_once  # type: ignore[method-assign, assignment]

    async def verified(self, user_id: int) -> None:
        """The address counts as verified from now, as if its mail had been opened (no
        session ends: the test arranges, the rule under test is elsewhere)."""
        user = self.users.users[user_id]
        self.users.users[user_id] = replace(user, email_verified_at=self.clock.now())

    async def sign_up_verified(self, email: str = "ada@example.test") -> SignedIn:
        signed_in = await self.sign_up(email)
        await self.verified(signed_in.user.id)
        self.clock.advance(1)
        return signed_in

    async def sign_in(
        self, email: str = "ada@example.test", password: str = PASSWORD
    ) -> PasswordSignIn:
        return await self.login.execute(LoginCommand(email=email, password=password, client=CLIENT))

    async def rotate(self, refresh_token: str | None) -> IssuedTokens:
        return await self.refresh.execute(
            RefreshCommand(refresh_token=refresh_token, client=CLIENT)
        )

    async def claims(self, access_token: str | None) -> AccessClaims:
        return await self.authenticate.execute(access_token)

    def proven(
        self, claims: AccessClaims, amr: tuple[str, ...] = assurance.PASSKEY
    ) -> AccessClaims:
        """``claims`` as a token minted by a re-authentication just now would state them."""
        return dataclasses.replace(claims, assurance=Assurance(self.clock.now(), amr))


class Fakes(TypedDict):
    """The fakes and token adapters a world is made of: ports to wire, fields to inspect."""

    clock: FakeClock
    users: MemoryUserRepository
    sessions: MemorySessionRepository
    devices: MemoryKnownDevices
    grants: MemoryGrantStore
    hasher: FakeHasher
    audit: RecordingAudit
    access_tokens: JwtAccessTokens
    refresh_tokens: HmacRefreshTokens
    mail: MemoryMail
    mailer: RecordingMailer
    totp: MemoryTotpCredentials
    recovery_codes: MemoryRecoveryCodes
    passkeys: MemoryPasskeys
    breaches: FakeBreaches
    security_events: MemorySecurityEvents
    activity: MemorySecurityActivity


MAIL_POLICY = MailPolicy(
    product="authgate tests",
    verify_url="https://app.example.test/verify-email?token={token}",
    reset_url="https://app.example.test/reset-password?token={token}",
    sign_in_url="https://app.example.test/email-sign-in?token={token}",
    secure_url="https://app.example.test/secure-account?token={token}",
    change_url="https://app.example.test/change-email?token={token}",
)


def build_world(
    clock: FakeClock,
    *,
    grace: float = 10,
    grants: MemoryGrantStore | None = None,
    users: MemoryUserRepository | None = None,
    captcha: CaptchaVerifier | None = None,
    limits: Limits | None = None,
    mail_policy: MailPolicy = MAIL_POLICY,
    email_sign_up: bool = False,
) -> World:
    users = users or MemoryUserRepository()
    activity = MemorySecurityActivity(users)
    users.activity = activity
    recovery_codes = MemoryRecoveryCodes(activity)
    fakes: Fakes = {
        "clock": clock,
        "users": users,
        "sessions": MemorySessionRepository(activity),
        "devices": MemoryKnownDevices(),
        "grants": grants or MemoryGrantStore(),
        "hasher": FakeHasher(),
        "audit": RecordingAudit(),
        "access_tokens": JwtAccessTokens(_KEYS, issuer=ISSUER, audience=AUDIENCE, clock=clock.now),
        "refresh_tokens": HmacRefreshTokens(secret=b"x" * 32),
        "mail": MemoryMail(users, activity),
        "mailer": RecordingMailer(),
        "totp": MemoryTotpCredentials(recovery_codes, activity, users),
        "recovery_codes": recovery_codes,
        "passkeys": MemoryPasskeys(activity),
        "breaches": FakeBreaches(),
        "security_events": MemorySecurityEvents(),
        "activity": activity,
    }
    grants_store = fakes["grants"]
    ports = Ports(
        **fakes,
        profiles=UncachedProfiles(users),
        administration=MemoryUserAdministration(
            users, outbox=fakes["mail"], also_erase=activity.erase
        ),
        mail_history=MemoryMailHistory(users, fakes["mail"]),
        integrity=grants_store,
        recovery_grants=grants_store,
        expired=grants_store,
        outbox=fakes["mail"],
        one_time=MemoryOneTimeStore(),
        limiter=MemoryRateLimiter(),
        captcha=captcha or AcceptingCaptcha(),
        identity_providers={},
        ids=SequentialIds(),
        secret_box=AesGcmSecretBox(b"k" * 32),
        otp=PyOtpPasswords(),
        passkey_accounts=MemoryPasskeyAccounts(users, fakes["passkeys"]),
        ceremonies=WebAuthnCeremonies(
            rp_id="auth.example.test", rp_name="authgate tests", origins=[ISSUER]
        ),
        webhook_endpoints=MemoryWebhookEndpoints(),
        webhook_outbox=EmptyWebhookOutbox(),
        webhook_transport=NoWebhookTransport(),
        event_signer=fakes["access_tokens"],
    )
    cases = build(
        ports,
        Policies(
            session=policy(grace=grace),
            limits=limits or Limits(),
            mail=mail_policy,
            delivery=DeliveryPolicy(give_up_after=timedelta(days=2)),
            webhooks=WebhookPolicy(),
            introspection=IntrospectionPolicy(
                context=TokenContext(issuer=ISSUER, audience=AUDIENCE, client_id=AUDIENCE),
                secrets=INTROSPECTION_SECRETS,
            ),
            signals=SignalPolicy(
                issuer=ISSUER, keep=timedelta(minutes=16), wait=0.3, streams=SIGNAL_STREAMS
            ),
            signals_receivers=SIGNAL_RECEIVERS,
            email_sign_up=email_sign_up,
        ),
    )
    session_policy = policy(grace=grace)
    revoker, issuer = session_services(ports, session_policy, mail_policy)
    proof = MailboxProof(
        users=users,
        factors=FactorRemoval(
            totp=fakes["totp"], passkeys=fakes["passkeys"], audit=fakes["audit"], clock=clock
        ),
        revoker=revoker,
        queue=MailQueue(mail=fakes["mail"], policy=mail_policy, clock=clock),
    )
    return World(
        **fakes,
        issuer=issuer,
        revoker=revoker,
        proof=proof,
        gate=SecondFactorGate(
            factors=SecondFactors(
                totp=fakes["totp"],
                recovery=recovery_codes,
                box=ports.secret_box,
                otp=ports.otp,
                clock=clock,
            ),
            passkeys=fakes["passkeys"],
            attempts=MfaAttempts(ports.one_time, clock),
        ),
        **{f.name: getattr(cases, f.name) for f in fields(UseCases)},
    )
