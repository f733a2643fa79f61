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
from domain.errors import InvalidPasskey
from domain.ports import (
    AuditLog,
    Clock,
    Credential,
    OneTimeStore,
    PasskeyCeremonies,
    Passkeys,
    UserRepository,
)


class StartPasskeySignIn:
    def __init__(
        self,
        *,
        ceremonies: PasskeyCeremonies,
        challenges: OneTimeStore,
        throttle: Throttle,
        clock: Clock,
    ) -> None:
        self._ceremonies = ceremonies
        self._challenges = challenges
        self._throttle = throttle
        self._clock = clock

    async def execute(self, client: ClientInfo) -> Mapping[str, Any]:
        await self._throttle.passkey(client)  # every challenge costs a stored record
        ceremony = self._ceremonies.authentication()
        await self._challenges.put(
            challenge_key("login", ceremony.challenge), b"1", self._clock.now() + CHALLENGE_TTL
        )
        return ceremony.options


@dataclass(frozen=True, slots=True, kw_only=True)
class PasskeySignInCommand:
    credential: Credential
    client: ClientInfo


class FinishPasskeySignIn:
    def __init__(
        self,
        *,
        users: UserRepository,
        passkeys: Passkeys,
        ceremonies: PasskeyCeremonies,
        challenges: OneTimeStore,
        issuer: SessionIssuer,
        clock: Clock,
        audit: AuditLog,
    ) -> None:
        self._users = users
        self._passkeys = passkeys
        self._ceremonies = ceremonies
        self._challenges = challenges
        self._issuer = issuer
        self._clock = clock
        self._audit = audit

    async def execute(self, command: PasskeySignInCommand) -> SignedIn:
        claimed = self._ceremonies.claimed(command.credential)
        if claimed is None:
            self._refuse(command, None, "passkey_unreadable")
        now = self._clock.now()
        # Taken before anything is verified: a challenge answers one response, right or wrong.
        if await self._challenges.take(challenge_key("login", claimed.challenge), now) is None:
            self._refuse(command, None, "passkey_challenge")
        passkey = await self._passkeys.by_credential(claimed.credential_id)
        if passkey is None:
            self._refuse(command, None, "passkey_unknown")
        # WebAuthn L3 §7.2 step 6: with no user named before the ceremony (the discoverable
        # flow), the response must carry a user handle, and it must be the owner's.
        if claimed.user_handle is None or not hmac.compare_digest(
            claimed.user_handle, passkey.user_handle
        ):
            self._refuse(command, passkey.user_id, "passkey_user_handle")
        # WebAuthn §7.2 step 21 (§6.1.1): a counter that does not grow may be a cloned
        # authenticator. Refused, and told apart in the audit log.
        if (claimed.sign_count or passkey.sign_count) and claimed.sign_count <= passkey.sign_count:
            self._refuse(command, passkey.user_id, "passkey_counter_regressed")
        try:
            count = self._ceremonies.verify_authentication(
                command.credential, claimed.challenge, passkey
            )
        except InvalidPasskey:
            self._refuse(command, passkey.user_id, "passkey_rejected")
        # Compare-and-set: of two sign-ins with one counter value, only one counts.
        if not await self._passkeys.record_use(passkey.id, passkey.sign_count, count, now):
            self._refuse(command, passkey.user_id, "passkey_counter_regressed")
        user = await self._users.get(passkey.user_id)
        if user is None:
            self._refuse(command, passkey.user_id, "passkey_unknown")
        tokens = await self._issuer.start(user, command.client)
        audit_event(
            self._audit,
            "login_succeeded",
            command.client,
            user_id=user.id,
            session_id=tokens.session_id,
            reason="passkey",
        )
        return SignedIn(user=user, tokens=tokens)

    def _refuse(self, command: PasskeySignInCommand, user_id: int | None, reason: str) -> NoReturn:
        audit_event(self._audit, "login_failed", command.client, user_id=user_id, reason=reason)
        raise InvalidPasskey()
