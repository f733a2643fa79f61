"""Passkeys of the signed-in user: register one (options, then the browser's answer), list
them, remove one. Each registration challenge is single use and lives five minutes, kept in
the keyed store under its SHA-256 and bound to the user it was made for."""

from __future__ import annotations

import base64
import hashlib
import json
import secrets
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from application.client import ClientInfo, change_event
from application.email.notices import Notice
from application.email.queue import MailQueue
from application.step_up import StepUp
from domain.entities import NewPasskey, Passkey
from domain.errors import (
    FieldError,
    InvalidAccessToken,
    InvalidPasskeyRegistration,
    PasskeyNotFound,
    ValidationFailed,
)
from domain.ports import (
    AccessClaims,
    AuditLog,
    Clock,
    Credential,
    OneTimeStore,
    PasskeyCeremonies,
    Passkeys,
    RefreshGrantStore,
)

CHALLENGE_TTL = timedelta(minutes=5)
USER_HANDLE_BYTES = 32  # WebAuthn §14.6.1: a random handle, never the email or a row id
NAME_MAX = 64


def challenge_key(kind: str, challenge: bytes) -> str:
    return f"passkey:{kind}:" + hashlib.sha256(challenge).hexdigest()


class StartPasskeyRegistration:
    def __init__(
        self,
        *,
        step_up: StepUp,
        passkeys: Passkeys,
        ceremonies: PasskeyCeremonies,
        challenges: OneTimeStore,
        clock: Clock,
    ) -> None:
        self._step_up = step_up
        self._passkeys = passkeys
        self._ceremonies = ceremonies
        self._challenges = challenges
        self._clock = clock

    async def execute(self, caller: AccessClaims) -> Mapping[str, Any]:
        user = await self._step_up.enrolling_user(caller)
        existing = await self._passkeys.of_user(user.id)
        # One handle per account, so an authenticator keeps one passkey per account.
        handle = existing[0].user_handle if existing else secrets.token_bytes(USER_HANDLE_BYTES)
        ceremony = self._ceremonies.registration(
            user_handle=handle,
            user_name=user.email,
            exclude=[p.credential_id for p in existing],
        )
        record = {"user_id": user.id, "user_handle": base64.b64encode(handle).decode()}
        await self._challenges.put(
            challenge_key("register", ceremony.challenge),
            json.dumps(record).encode(),
            self._clock.now() + CHALLENGE_TTL,
        )
        return ceremony.options


@dataclass(frozen=True, slots=True, kw_only=True)
class FinishRegistrationCommand:
    caller: AccessClaims
    credential: Credential
    name: str | None
    client: ClientInfo


class FinishPasskeyRegistration:
    def __init__(
        self,
        *,
        step_up: StepUp,
        passkeys: Passkeys,
        ceremonies: PasskeyCeremonies,
        challenges: OneTimeStore,
        grants: RefreshGrantStore,
        queue: MailQueue,
        clock: Clock,
        audit: AuditLog,
    ) -> None:
        self._step_up = step_up
        self._grants = grants
        self._passkeys = passkeys
        self._ceremonies = ceremonies
        self._challenges = challenges
        self._queue = queue
        self._clock = clock
        self._audit = audit

    async def execute(self, command: FinishRegistrationCommand) -> Passkey:
        _check_name(command.name)
        user = await self._step_up.enrolling_user(command.caller)
        challenge = self._ceremonies.registration_challenge(command.credential)
        if challenge is None:
            raise InvalidPasskeyRegistration()
        now = self._clock.now()
        raw = await self._challenges.take(challenge_key("register", challenge), now)
        record = json.loads(raw) if raw is not None else None
        if record is None or record["user_id"] != user.id:
            raise InvalidPasskeyRegistration()  # unknown, expired, used, or someone else's
        attested = self._ceremonies.verify_registration(command.credential, challenge)
        added = change_event("passkey_added", command.client, user_id=user.id)
        passkey = await self._passkeys.add(
            NewPasskey(
                user_id=user.id,
                credential_id=attested.credential_id,
                public_key=attested.public_key,
                sign_count=attested.sign_count,
                transports=attested.transports,
                user_handle=base64.b64decode(record["user_handle"]),
                name=command.name,
                created_at=now,
            ),
            added,
        )
        if not await self._grants.with_grants([command.caller.session_id]):
            # The session adding it ended meanwhile ("this wasn't me", a reset, signing out
            # everywhere): what swept the factors then did not find this one. No factor
            # outlives the session that added it (ASVS 5.0 V6.4.3).
            gone = change_event(
                "passkey_removed", command.client, user_id=user.id, reason="session_ended"
            )
            if await self._passkeys.remove(user.id, passkey.id, self._clock.now(), gone):
                self._audit.record(gone)
            raise InvalidAccessToken()
        self._audit.record(added)
        await self._queue.factor_added(user, Notice.PASSKEY_ADDED, passkey.created_at)
        return passkey


def _check_name(name: str | None) -> None:
    if name is None:
        return
    if not 1 <= len(name) <= NAME_MAX:
        raise ValidationFailed([FieldError("name", f"must be 1 to {NAME_MAX} characters")])
    if any(unicodedata.category(c) in ("Cc", "Cs") for c in name):
        raise ValidationFailed([FieldError("name", "must not contain control characters")])


class ListPasskeys:
    def __init__(self, *, passkeys: Passkeys) -> None:
        self._passkeys = passkeys

    async def execute(self, caller: AccessClaims) -> list[Passkey]:
        return await self._passkeys.of_user(caller.user_id)


@dataclass(frozen=True, slots=True, kw_only=True)
class RemovePasskeyCommand:
    caller: AccessClaims
    passkey_id: int
    client: ClientInfo


class RemovePasskey:
    def __init__(
        self,
        *,
        step_up: StepUp,
        passkeys: Passkeys,
        queue: MailQueue,
        audit: AuditLog,
        clock: Clock,
    ) -> None:
        self._step_up = step_up
        self._passkeys = passkeys
        self._queue = queue
        self._audit = audit
        self._clock = clock

    async def execute(self, command: RemovePasskeyCommand) -> None:
        user = await self._step_up.user(command.caller)
        removed = change_event("passkey_removed", command.client, user_id=user.id)
        if not await self._passkeys.remove(user.id, command.passkey_id, self._clock.now(), removed):
            raise PasskeyNotFound()  # someone else's is not found either
        self._audit.record(removed)
        await self._queue.notify(user, Notice.PASSKEY_REMOVED)
