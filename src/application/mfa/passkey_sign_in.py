"""Signing in with a passkey, no email asked: the browser offers the passkeys it holds for
this relying party, the answer names its credential. A full sign-in on its own."""

from __future__ import annotations

import hmac
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, NoReturn

from application.client import ClientInfo, audit_event
from application.mfa.passkeys import CHALLENGE_TTL, challenge_key
from application.session_issuer import SessionIssuer, SignedIn
from application.throttle import Throttle
from domain import assurance
from domain.entities import Passkey
from domain.errors import EmailNotVerified, InvalidPasskey
from domain.ports import (
    AuditLog,
    Clock,
    Credential,
    OneTimeStore,
    PasskeyCeremonies,
    Passkeys,
    UserRepository,
)


class PasskeyAssertions:
    """One passkey answer to one of our challenges, checked by every WebAuthn rule: the one
    place a sign-in and a re-authentication with a passkey are verified."""

    def __init__(
        self,
        *,
        passkeys: Passkeys,
        ceremonies: PasskeyCeremonies,
        challenges: OneTimeStore,
        clock: Clock,
        audit: AuditLog,
    ) -> None:
        self._passkeys = passkeys
        self._ceremonies = ceremonies
        self._challenges = challenges
        self._clock = clock
        self._audit = audit

    async def challenge(self, kind: str, record: bytes = b"1") -> Mapping[str, Any]:
        """Options for the browser; ``record`` is kept with the challenge for ``verify``."""
        ceremony = self._ceremonies.authentication()
        await self._challenges.put(
            challenge_key(kind, ceremony.challenge), record, self._clock.now() + CHALLENGE_TTL
        )
        return ceremony.options

    async def verify(
        self, credential: Credential, kind: str, client: ClientInfo, failure: str
    ) -> tuple[Passkey, bytes]:
        """The passkey that answered and the record kept with its challenge; else
        ``InvalidPasskey``, audited as ``failure`` with the reason."""
        claimed = self._ceremonies.claimed(credential)
        if claimed is None:
            self._refuse(failure, client, None, "passkey_unreadable")
        now = self._clock.now()
        # Taken before anything is verified: a challenge answers one response, right or wrong.
        record = await self._challenges.take(challenge_key(kind, claimed.challenge), now)
        if record is None:
            self._refuse(failure, client, None, "passkey_challenge")
        passkey = await self._passkeys.by_credential(claimed.credential_id)
        if passkey is None:
            self._refuse(failure, client, None, "passkey_unknown")
        # WebAuthn L3 §7.2 step 6: with no user named before the ceremony (the discoverable
        # flow), the response must carry a user handle, and it must be the owner's.
        if claimed.user_handle is None or not hmac.compare_digest(
            claimed.user_handle, passkey.user_handle
        ):
            self._refuse(failure, client, passkey.user_id, "passkey_user_handle")
        # WebAuthn §7.2 step 21 (§6.1.1): a counter that does not grow may be a cloned
        # authenticator. Refused, and told apart in the audit log.
        if (claimed.sign_count or passkey.sign_count) and claimed.sign_count <= passkey.sign_count:
            self._refuse(failure, client, passkey.user_id, "passkey_counter_regressed")
        try:
            count = self._ceremonies.verify_authentication(credential, claimed.challenge, passkey)
        except InvalidPasskey:
            self._refuse(failure, client, passkey.user_id, "passkey_rejected")
        # Compare-and-set: of two sign-ins with one counter value, only one counts.
        if not await self._passkeys.record_use(passkey.id, passkey.sign_count, count, now):
            self._refuse(failure, client, passkey.user_id, "passkey_counter_regressed")
        return passkey, record

    def _refuse(
        self, failure: str, client: ClientInfo, user_id: int | None, reason: str
    ) -> NoReturn:
        audit_event(self._audit, failure, client, user_id=user_id, reason=reason)
        raise InvalidPasskey()


class StartPasskeySignIn:
    def __init__(self, *, assertions: PasskeyAssertions, throttle: Throttle) -> None:
        self._assertions = assertions
        self._throttle = throttle

    async def execute(self, client: ClientInfo) -> Mapping[str, Any]:
        await self._throttle.sign_in_begun(client)  # every challenge costs a stored record
        return await self._assertions.challenge("login")


@dataclass(frozen=True, slots=True, kw_only=True)
class PasskeySignInCommand:
    credential: Credential
    client: ClientInfo


class FinishPasskeySignIn:
    def __init__(
        self,
        *,
        users: UserRepository,
        assertions: PasskeyAssertions,
        passkeys: Passkeys,
        issuer: SessionIssuer,
        audit: AuditLog,
        require_verified: bool = False,
    ) -> None:
        self._users = users
        self._assertions = assertions
        self._passkeys = passkeys
        self._issuer = issuer
        self._audit = audit
        self._require_verified = require_verified

    async def execute(self, command: PasskeySignInCommand) -> SignedIn:
        passkey, _ = await self._assertions.verify(
            command.credential, "login", command.client, "login_failed"
        )
        user = await self._users.get(passkey.user_id)
        if user is None:
            audit_event(self._audit, "login_failed", command.client, reason="passkey_unknown")
            raise InvalidPasskey()
        if self._require_verified and not user.email_verified:
            # A passkey-first account's address is unverified until its mail is opened: with
            # AUTH_REQUIRE_VERIFIED_EMAIL its passkey waits for it, as a password does.
            audit_event(
                self._audit,
                "login_failed",
                command.client,
                user_id=user.id,
                reason="email_not_verified",
            )
            raise EmailNotVerified()

        async def passkey_kept() -> bool:
            return await self._passkeys.by_credential(passkey.credential_id) is not None

        try:
            tokens = await self._issuer.start(
                user, command.client, assurance.PASSKEY, passkey_kept=passkey_kept
            )
        except InvalidPasskey:
            audit_event(
                self._audit,
                "login_failed",
                command.client,
                user_id=user.id,
                reason="passkey_removed",
            )
            raise
        audit_event(
            self._audit,
            "login_succeeded",
            command.client,
            user_id=user.id,
            session_id=tokens.session_id,
            reason="passkey",
        )
        return SignedIn(user=user, tokens=tokens)
