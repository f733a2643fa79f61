"""Signing up with a passkey and no password: the address (and a name) first, then the
browser's new passkey, which is the account's one credential.

The pending sign-up lives with its challenge, single use and five minutes, like every passkey
ceremony's; the account and its passkey are written in one transaction when the answer
verifies (``PasskeyAccounts``). The address is unverified, as after a password sign-up: the
verification mail goes out, and the passkey, made with the account, is no factor planted on
an unverified address (see ``application.mfa.planted``).
"""

from __future__ import annotations

import base64
import json
import secrets
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from application.client import ClientInfo
from application.mfa.passkeys import CHALLENGE_TTL, USER_HANDLE_BYTES, challenge_key
from application.register import AccountOpening, AwaitingVerification
from application.session_issuer import SignedIn
from application.throttle import Throttle
from domain import assurance
from domain.entities import DEFAULT_ROLE, NewUser
from domain.errors import EmailTaken, FieldError, InvalidPasskeyRegistration, ValidationFailed
from domain.ports import (
    CaptchaVerifier,
    Clock,
    Credential,
    OneTimeStore,
    PasskeyAccounts,
    PasskeyCeremonies,
    UserRepository,
)
from domain.values import Email, name_problems

KIND = "signup"


@dataclass(frozen=True, slots=True, kw_only=True)
class PasskeySignUpCommand:
    email: str
    name: str | None
    captcha_token: str | None
    client: ClientInfo


class StartPasskeySignUp:
    def __init__(
        self,
        *,
        users: UserRepository,
        captcha: CaptchaVerifier,
        throttle: Throttle,
        ceremonies: PasskeyCeremonies,
        challenges: OneTimeStore,
        clock: Clock,
    ) -> None:
        self._users = users
        self._captcha = captcha
        self._throttle = throttle
        self._ceremonies = ceremonies
        self._challenges = challenges
        self._clock = clock

    async def execute(self, command: PasskeySignUpCommand) -> Mapping[str, Any]:
        # The checks of a password sign-up, in its order: each pending sign-up costs a
        # stored record, so register's per-IP limit and Turnstile guard the options.
        await self._throttle.register(command.client)
        await self._captcha.verify(command.captcha_token, command.client.ip_address)
        email = _validated(command)
        if await self._users.get_by_email(email.value) is not None:
            raise EmailTaken()
        # WebAuthn L3 §14.6.1: the user handle is random, never the address or a row id.
        handle = secrets.token_bytes(USER_HANDLE_BYTES)
        ceremony = self._ceremonies.registration(
            user_handle=handle, user_name=email.value, exclude=()
        )
        pending = {
            "email": email.value,
            "name": command.name,
            "user_handle": base64.b64encode(handle).decode(),
        }
        await self._challenges.put(
            challenge_key(KIND, ceremony.challenge),
            json.dumps(pending).encode(),
            self._clock.now() + CHALLENGE_TTL,
        )
        return ceremony.options


@dataclass(frozen=True, slots=True, kw_only=True)
class FinishPasskeySignUpCommand:
    credential: Credential
    client: ClientInfo


class FinishPasskeySignUp:
    def __init__(
        self,
        *,
        accounts: PasskeyAccounts,
        ceremonies: PasskeyCeremonies,
        challenges: OneTimeStore,
        opening: AccountOpening,
        clock: Clock,
    ) -> None:
        self._accounts = accounts
        self._ceremonies = ceremonies
        self._challenges = challenges
        self._opening = opening
        self._clock = clock

    async def execute(self, command: FinishPasskeySignUpCommand) -> SignedIn | AwaitingVerification:
        challenge = self._ceremonies.registration_challenge(command.credential)
        if challenge is None:
            raise InvalidPasskeyRegistration()
        now = self._clock.now()
        # Taken before anything is verified: of two answers to one challenge, one goes on.
        raw = await self._challenges.take(challenge_key(KIND, challenge), now)
        if raw is None:
            raise InvalidPasskeyRegistration()  # unknown, expired or used
        pending = json.loads(raw)
        # Origin, RP ID, challenge, user presence and verification (WebAuthn L3 §7.1).
        attested = self._ceremonies.verify_registration(command.credential, challenge)
        registered = self._opening.registered(command.client, reason="passkey")
        # Taken since the options were made: EmailTaken, and nothing is written.
        user, _ = await self._accounts.open(
            NewUser(
                email=pending["email"],
                password_hash=None,
                name=pending["name"],
                role=DEFAULT_ROLE,
                created_at=now,
            ),
            attested,
            base64.b64decode(pending["user_handle"]),
            registered,
        )
        return await self._opening.opened(user, command.client, assurance.PASSKEY, registered)


def _validated(command: PasskeySignUpCommand) -> Email:
    errors: list[FieldError] = []
    email: Email | None = None
    try:
        email = Email.parse(command.email)
    except ValueError as e:
        errors.append(FieldError("email", str(e)))
    errors += name_problems(command.name)
    if errors or email is None:
        raise ValidationFailed(errors)
    return email
