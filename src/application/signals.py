"""A Shared Signals transmitter (OpenID SSF 1.0, CAEP 1.0): resource servers that verify the
access tokens offline learn that a session ended, and refuse its tokens before they expire.

Events are Security Event Tokens (RFC 8417) signed with the service's own keys, delivered by
poll (RFC 8936) on streams: each verifying process opens a stream of its own with its
receiver's bearer token (AUTH_SSF_RECEIVERS), asks on it for what it has not acknowledged,
and acknowledges what it got in its next poll. Acknowledgements are the stream's, so
processes that share one receiver's token never split the events between them. A poll may
wait for events (long polling): it answers as soon as one is written, or after ``wait``.

An event is kept for an access token's lifetime (and a little more): past that, every token
of the session it names has expired anyway, so a receiver needs it no longer. A new stream
starts with every event kept, so a verifier that starts, or starts again after a crash,
learns every session end that any live token may still carry. A stream nobody polled for as
long goes too: its verifier has stopped, or has missed events it would need.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import secrets
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from domain.errors import (
    FieldError,
    InvalidReceiver,
    SignalStreamNotFound,
    TooManySignalStreams,
    ValidationFailed,
)
from domain.ports import Clock, EventSigner, SecurityEvent, SecurityEvents, SignalStream
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
    check_every: float = 0.1  # how often a waiting poll looks for an event written since
    look_again_every: float = 1.0  # how often it reads what is unacknowledged all the same
    # Streams one receiver may hold: one per verifying process, with room for processes
    # restarted before their old streams went idle; a leaked token cannot fill the database.
    streams: int = 1000


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


class OpenSignalStream:
    def __init__(self, *, events: SecurityEvents, clock: Clock, policy: SignalPolicy) -> None:
        self._events = events
        self._clock = clock
        self._policy = policy

    async def execute(self, receiver: str, delivery_method: str) -> SignalStream:
        if delivery_method != POLL_DELIVERY:
            # Poll only (RFC 8936): a push would be a request from authgate to a URL it is
            # given, which it never makes.
            raise ValidationFailed([FieldError("delivery.method", f"must be {POLL_DELIVERY}")])
        now = self._clock.now()
        # 128 random bits. The id is no credential: every use of it is checked against the
        # receiver whose token came with it.
        stream = SignalStream(
            id=secrets.token_urlsafe(16), receiver=receiver, created_at=now, polled_at=now
        )
        if not await self._events.open_stream(stream, self._policy.streams):
            raise TooManySignalStreams()
        return stream


class ReadSignalStreams:
    def __init__(self, *, events: SecurityEvents) -> None:
        self._events = events

    async def execute(self, receiver: str, stream_id: str | None) -> list[SignalStream]:
        """The receiver's streams, or the one named (SSF 1.0 §8.1.1.2)."""
        streams = await self._events.streams(receiver)
        if stream_id is None:
            return streams
        named = [stream for stream in streams if stream.id == stream_id]
        if not named:
            raise SignalStreamNotFound()
        return named


class CloseSignalStream:
    def __init__(self, *, events: SecurityEvents) -> None:
        self._events = events

    async def execute(self, receiver: str, stream_id: str) -> None:
        if not await self._events.close_stream(receiver, stream_id):
            raise SignalStreamNotFound()


@dataclass(frozen=True, slots=True, kw_only=True)
class PollCommand:
    receiver: str
    stream_id: str
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
        acknowledged = _event_ids(command.acknowledged)
        now = self._clock.now()
        # Another receiver's stream is no stream of this one's: the same 404 as none.
        if not await self._events.polled(command.receiver, command.stream_id, now, acknowledged):
            raise SignalStreamNotFound()
        if command.max_events == 0:  # RFC 8936 §2.4: only acknowledging
            return Polled()
        found = await self._wait_for_events(command)
        sent = found[: command.max_events]
        return Polled(
            sets={str(event.id): self._signed(event, command.receiver) for event in sent},
            more_available=len(found) > len(sent),
        )

    async def _wait_for_events(self, command: PollCommand) -> list[SecurityEvent]:
        """What the stream has not acknowledged; while nothing, up to ``wait`` for an event.

        Reading it is a scan of every event kept (milliseconds with thousands), which every
        waiting stream would repeat ten times a second: a waiting poll reads again when the
        newest event's id changed (read before, so one written meanwhile still changes it),
        and once every ``look_again_every`` all the same. On PostgreSQL an id is drawn at the
        insert and seen at the commit, so an event can become visible below the newest seen:
        it waits a second at the most."""
        policy = self._policy
        deadline = time.monotonic() + (0 if command.return_immediately else policy.wait)
        newest = await self._events.newest()
        looked, found = time.monotonic(), await self._unacknowledged(command)
        while not found and looked < deadline:
            await asyncio.sleep(policy.check_every)
            now, seen = time.monotonic(), newest
            newest = await self._events.newest()
            if newest == seen and now < min(deadline, looked + policy.look_again_every):
                continue
            looked, found = now, await self._unacknowledged(command)
            # Closed while this poll waited: its acknowledgements went with it, so what it
            # found is every event kept; the stream's verifier is told it is gone instead.
            if not await self._events.is_open(command.stream_id):
                raise SignalStreamNotFound()
        return found

    async def _unacknowledged(self, command: PollCommand) -> list[SecurityEvent]:
        since = self._clock.now() - self._policy.keep
        return await self._events.unacknowledged(command.stream_id, since, command.max_events + 1)

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

    async def idle_streams(self, limit: int) -> int:
        """Streams nobody polled for as long as an event is kept: their verifiers stopped,
        or missed what they would need (a verifier that comes back opens a new one)."""
        return await self._events.close_idle(self._clock.now() - self._policy.keep, limit)


def _event_ids(jtis: Sequence[str]) -> list[int]:
    """The jtis of our SETs are event ids; anything else cannot be one of ours."""
    return [int(jti) for jti in jtis if jti.isascii() and jti.isdigit() and len(jti) <= 18]


def _digest(token: str) -> bytes:
    return hashlib.sha256(token.encode()).digest()
