"""The session denylist in this process's memory, kept true by Valkey pub/sub, so that
``is_denied`` (every authenticated request) reads nothing over the network.

Every script that denies a session (``revoke.lua``; ``rotate.lua`` on reuse) publishes
``"<denylist key> <deny_until>"`` on the channel in the same atomic step. Each process
follows the channel on a connection of its own (``run``) and answers from memory only
while it can prove that it hears everything:

- an answer learned from Valkey (``learn``) counts only if it was asked after this
  subscription was confirmed: Valkey runs one command at a time, so a denial after that
  read is published to a subscriber that is already listening;
- this process's own heartbeat, published every ``HEARTBEAT`` seconds on a channel of its
  own that the same connection follows (so no other process wakes for it, and a beat
  comes after every denial published before it), must keep coming back: without it for
  ``LIVENESS`` seconds (a half-open connection, a stalled server, a subscription left on
  a primary that failed over) the subscription is presumed lost. The
  heartbeat is published, not a PING on the subscription: it goes the way a denial goes,
  through the client that writes denials to the current primary. Only its own counts:
  another process's beat, or a denial, may come from a primary this process no longer
  writes to (a split after a failover), and proves nothing of the way its denials go;
- a lost or unproven subscription forgets everything learned: until a new one is
  confirmed, every answer reads through to Valkey, as without this cache;
- "not denied" is answered from memory only while the subscription holds nothing unread
  (``_Unread``): no bytes on its socket, none buffered by the connection or its parser.

So a missed message can never let a revoked token in (OWASP ASVS 5.0 V7.4.1: a terminated
session's tokens are refused at once). Valkey writes a logout's message to every
subscriber in the same turn as the logout's own answer, in practice long before a request
sent after that answer reaches another process. There it may wait, unread, while the event
loop serves the request first (under load, or while this process publishes its heartbeat);
the request then reads through instead of trusting memory that predates the message. What
no process can see is a message still on the network (a lost segment waiting for its
retransmission): that is bounded by ``LIVENESS``, since the heartbeat that follows the same
way is late too and the memory stops being trusted.
A Valkey Cluster has no one place to hear every denial cheaply: there is no push there,
and every answer reads through.
"""

from __future__ import annotations

import asyncio
import logging
import secrets
import select
import time
from collections.abc import Callable
from typing import Any, Final

from valkey.asyncio import Valkey
from valkey.exceptions import ValkeyError

from application.pacing import stopped

log = logging.getLogger("authgate")

HEARTBEAT: Final = 0.25  # seconds between two heartbeats of this process
LIVENESS: Final = 1.0  # seconds of silence after which the subscription is not trusted
RETRY: Final = 0.5  # seconds before following the channel again after a loss
# Sessions this process knows about (denied or not). Past it, all are forgotten and learnt
# again from Valkey: a bound on memory, never on correctness.
MAX_KNOWN: Final = 200_000
_NOT_DENIED: Final = 0


def channel_of(prefix: str) -> str:
    return f"{prefix}denied"


class PushedDenylist:
    def __init__(
        self,
        client: Valkey,
        prefix: str,
        *,
        heartbeat: float = HEARTBEAT,
        liveness: float = LIVENESS,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self._client = client
        self.channel = channel_of(prefix)
        self._heartbeat = heartbeat
        self._liveness = liveness
        self._monotonic = monotonic
        self._known: dict[str, int] = {}  # denylist key -> deny_until (µs), 0: not denied
        self._epoch = 0  # one per subscription: what was learnt under another is void
        self._live = False
        self._heard_at = 0.0  # when this process's own heartbeat came back last
        self._unread: Callable[[], bool] = _always  # no subscription: all may be unread
        self._beat = secrets.token_hex(8).encode()  # this process's heartbeat, no other's
        self._beat_channel = f"{self.channel}:beat:{self._beat.decode()}".encode()

    def answer(self, key: str, now_us: int) -> bool | None:
        """Whether the session of ``key`` is denied; ``None`` when memory cannot tell."""
        if not self._trusted():
            return None
        until = self._known.get(key)
        if until is None:
            return None
        if until > now_us:
            return True  # a denial heard stays heard: nothing unread can undo it
        return None if self._unread() else False

    def ticket(self) -> int | None:
        """Taken before a read from Valkey, given back to ``learn`` with its answer."""
        return self._epoch if self._trusted() else None

    def learn(self, key: str, until_us: int | None, ticket: int | None) -> None:
        if ticket is None or ticket != self._epoch or not self._live:
            return
        if len(self._known) >= MAX_KNOWN:
            # Forgotten, so is what every read in flight would teach: this read may predate
            # a denial just heard and just forgotten with the rest.
            self._known.clear()
            self._epoch += 1
            return
        self._known[key] = max(until_us or _NOT_DENIED, self._known.get(key, _NOT_DENIED))

    @property
    def live(self) -> bool:
        return self._trusted()

    def _trusted(self) -> bool:
        return self._live and self._monotonic() - self._heard_at <= self._liveness

    async def run(self, stop: asyncio.Event) -> None:
        """Follow the channel until ``stop``; after a loss, again."""
        while not stop.is_set():
            try:
                await self._follow(stop)
            except (ValkeyError, OSError, TimeoutError) as e:
                log.warning("session denylist: reading through to Valkey: %s", e or type(e))
            except Exception:  # never the end of the loop: reading through is always safe
                log.exception("session denylist: reading through to Valkey")
            finally:
                self._forget()
            if await stopped(stop, RETRY):
                return

    async def _follow(self, stop: asyncio.Event) -> None:
        pubsub = self._client.pubsub()
        try:
            # One command: both channels are followed from the same instant on.
            await pubsub.subscribe(self.channel, self._beat_channel)
            for _ in range(2):
                confirmed = await pubsub.get_message(timeout=self._liveness)
                if confirmed is None or confirmed["type"] != "subscribe":
                    raise TimeoutError("no confirmation of the subscription")
            self._epoch += 1
            self._known.clear()
            self._unread = _Unread(pubsub.connection)
            self._heard_at = self._monotonic()  # live once its own beat comes back
            beaten_at = -self._heartbeat
            while not stop.is_set():
                if self._monotonic() - beaten_at >= self._heartbeat:
                    beaten_at = self._monotonic()
                    await self._client.publish(self._beat_channel, self._beat)
                message = await pubsub.get_message(timeout=self._heartbeat)
                if message is not None:
                    self._heard(message)
                if self._monotonic() - self._heard_at > self._liveness:
                    raise TimeoutError(f"the channel was silent for {self._liveness:g} s")
        finally:
            await pubsub.aclose()  # type: ignore[no-untyped-call]  # valkey-py leaves it untyped

    def _heard(self, message: dict[str, Any]) -> None:
        if message["type"] != "message":
            return
        data = bytes(message["data"])
        if bytes(message["channel"]) == self._beat_channel:
            if data == self._beat:
                self._heard_at = self._monotonic()
                self._live = True
            return
        key, _, until = data.decode(errors="replace").rpartition(" ")
        if key and until.isdigit():
            self._known[key] = max(int(until), self._known.get(key, _NOT_DENIED))

    def _forget(self) -> None:
        self._live = False
        self._epoch += 1
        self._known.clear()
        self._unread = _always


def _always() -> bool:
    return True


class _Unread:
    """Whether a subscription's connection holds input not yet applied: bytes on its socket
    the event loop has not read, or read and not yet parsed. valkey-py has no public way to
    ask (it asks the same of its own buffer, ``Connection._socket_is_empty``); the pieces
    are looked up once here, and a version that moves them fails the subscription at once
    (``run`` logs it), which leaves every answer reading through."""

    __slots__ = ("_connection", "_parser", "_poll", "_stream")

    def __init__(self, connection: Any) -> None:
        self._connection = connection
        self._stream: asyncio.StreamReader = connection._reader
        self._parser: Any = connection._parser._reader  # libvalkey.Reader
        self._stream._buffer  # noqa: B018  # there, or the subscription fails now
        socket = connection._writer.transport.get_extra_info("socket")
        self._poll = select.poll()
        self._poll.register(socket.fileno(), select.POLLIN)

    def __call__(self) -> bool:
        if self._connection._reader is not self._stream:
            return True  # connected again behind our back: whatever it missed is unknown
        # A closed or broken socket answers the poll too (POLLHUP, POLLERR): unread.
        return bool(
            self._stream._buffer  # asyncio's, private
            or self._parser.has_data()
            or self._poll.poll(0)
        )
