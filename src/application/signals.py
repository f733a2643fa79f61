"""A Shared Signals transmitter (OpenID SSF 1.0, CAEP 1.0): resource servers that verify the
access tokens offline learn that a session ended, and refuse its tokens before they expire.

Events are Security Event Tokens (RFC 8417) signed with the service's own keys, delivered by
poll (RFC 8936): a receiver asks, with its bearer token (AUTH_SSF_RECEIVERS), for what it has
not acknowledged; it acknowledges what it got in its next poll. A poll may wait for events
(long polling): it answers as soon as one is written, or after ``wait``.

An event is kept for an access token's lifetime (and a little more): past that, every token
of the session it names has expired anyway, so a receiver needs it no longer.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from domain.errors import FieldError, InvalidReceiver, ValidationFailed
from domain.ports import Clock, EventSigner, SecurityEvent, SecurityEvents
from domain.ports.signals import SESSION_REVOKED

POLL_DELIVERY = "urn:ietf:rfc:8936"
CAEP = "https://schemas.openid.net/secevent/caep/event-type/"
EVENT_TYPES = {SESSION_REVOKED: CAEP + "session-revoked"}
MAX_EVENTS = 1000


@dataclass(frozen=True, slots=True, kw_only=True)
class SignalPolicy:
    issuer: str
    keep: timedelta  # how long an event is kept: the access-token lifetime and some slack
    wait: float = 10.0  # the longest a poll waits for an event (seconds)
    check_every: float = 0.1  # how often a waiting poll looks again


class SignalReceivers:
    """The resource servers that may poll (AUTH_SSF_RECEIVERS: ``name:token``). Tokens are
    compared as SHA-256 digests with ``hmac.compare_digest``, every configured one each time,
    so the time taken tells nothing of a guess (OWASP ASVS 5.0 V11.2.4)."""

    def __init__(self, tokens: Mapping[str, str]) -> None:
        self._digests = {name: _digest(token) for name, token in tokens.items()}

    @property
    def enabled(self) -> bool:
        return bool(self._digests)

    def authenticate(self, bearer: str | None) -> str:
        presented = _digest(bearer or "")
        found = None
        for name, digest in self._digests.items():
            if hmac.compare_digest(digest, presented) and bearer:
                found = name
        if found is None:
            raise InvalidReceiver()
        return found


@dataclass(frozen=True, slots=True, kw_only=True)
class PollCommand:
    receiver: str
    acknowledged: Sequence[str] = ()
    max_events: int = 100
    return_immediately: bool = False


@dataclass(frozen=True, slots=True, kw_only=True)
class Polled:
    sets: dict[str, str] = field(default_factory=dict)  # jti -> the signed SET
    more_available: bool = False


class PollSecurityEvents:
    def __init__(
        self,
        *,
        events: SecurityEvents,
        signer: EventSigner,
        clock: Clock,
        policy: SignalPolicy,
    ) -> None:
        self._events = events
        self._signer = signer
        self._clock = clock
        self._policy = policy

    async def execute(self, command: PollCommand) -> Polled:
        if not 0 <= command.max_events <= MAX_EVENTS:
            raise ValidationFailed([FieldError("maxEvents", f"must be 0 to {MAX_EVENTS}")])
        await self._events.acknowledge(command.receiver, _event_ids(command.acknowledged))
        if command.max_events == 0:  # RFC 8936 §2.4: only acknowledging
            return Polled()
        deadline = time.monotonic() + (0 if command.return_immediately else self._policy.wait)
        while True:
            since = self._clock.now() - self._policy.keep
            found = await self._events.unacknowledged(
                command.receiver, since, command.max_events + 1
            )
            if found or time.monotonic() >= deadline:
                break
            await asyncio.sleep(self._policy.check_every)
        sent = found[: command.max_events]
        return Polled(
            sets={str(event.id): self._signed(event, command.receiver) for event in sent},
            more_available=len(found) > len(sent),
        )

    def _signed(self, event: SecurityEvent, receiver: str) -> str:
        """RFC 8417 §2.2 claims; the subject is the session (SSF §3: a complex subject, the
        ``sid`` of its access tokens), the event CAEP's, with the time it happened and why,
        for the receiver's logs. No ``exp`` and no ``sub``: a SET is no token to be used
        (RFC 8417 §4.3)."""
        subject: dict[str, Any] = {}
        if event.session_id is not None:
            subject["session"] = {"format": "opaque", "id": event.session_id}
        detail: dict[str, Any] = {"event_timestamp": int(event.occurred_at.timestamp())}
        if event.reason:
            detail["reason_admin"] = {"en": event.reason}
        return self._signer.sign_event(
            {
                "iss": self._policy.issuer,
                "aud": receiver,
                "iat": int(self._clock.now().timestamp()),
                "jti": str(event.id),
                "sub_id": {"format": "complex", **subject},
                "events": {EVENT_TYPES[event.kind]: detail},
            }
        )


class PurgeSecurityEvents:
    def __init__(self, *, events: SecurityEvents, clock: Clock, policy: SignalPolicy) -> None:
        self._events = events
        self._clock = clock
        self._policy = policy

    async def execute(self, limit: int) -> int:
        return await self._events.delete_before(self._clock.now() - self._policy.keep, limit)


def _event_ids(jtis: Sequence[str]) -> list[int]:
    """The jtis of our SETs are event ids; anything else cannot be one of ours."""
    return [int(jti) for jti in jtis if jti.isascii() and jti.isdigit() and len(jti) <= 18]


def _digest(token: str) -> bytes:
    return hashlib.sha256(token.encode()).digest()
