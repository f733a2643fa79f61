"""The Shared Signals transmitter (application/signals.py): each verifying process opens a
stream with its receiver's token, polls it for the sessions that ended, gets signed CAEP
session-revoked SETs, and acknowledges them on that stream alone."""

from __future__ import annotations

import asyncio
import time
from dataclasses import replace
from datetime import datetime, timedelta
from typing import Any, cast

import pytest
from joserfc import jwt
from joserfc.jwk import KeySet

from application.signals import (
    POLL_DELIVERY,
    OpenSignalStream,
    PollCommand,
    PollSecurityEvents,
    SignalPolicy,
)
from domain.errors import (
    InvalidReceiver,
    SignalStreamNotFound,
    TooManySignalStreams,
    ValidationFailed,
)
from domain.ports import SecurityEvent
from tests.fakes.signals import MemorySecurityEvents
from tests.unit.world import ISSUER, SIGNAL_RECEIVERS, SIGNAL_STREAMS, World

SESSION_REVOKED = "https://schemas.openid.net/secevent/caep/event-type/session-revoked"


async def stream(world: World, receiver: str = "orders") -> str:
    opened = await world.open_signal_stream.execute(receiver, POLL_DELIVERY)
    return opened.id


def read(world: World, token: str) -> tuple[dict[str, object], dict[str, object]]:
    keys = KeySet.import_key_set(cast(Any, world.access_tokens.jwks()))
    decoded = jwt.decode(token, keys, algorithms=["ES256"])
    return dict(decoded.header), dict(decoded.claims)


async def test_a_receiver_gets_each_ended_session_as_a_signed_caep_event(world: World):
    at = world.clock.now() - timedelta(seconds=5)
    world.security_events.session_revoked("s-1", at, reason="logout")

    polled = await world.poll_security_events.execute(
        PollCommand(receiver="orders", stream_id=await stream(world), return_immediately=True)
    )

    (jti, token), *_ = polled.sets.items()
    header, claims = read(world, token)
    assert header["typ"] == "secevent+jwt"  # RFC 8417 §2.3: never an access token
    assert claims["iss"] == ISSUER
    assert claims["aud"] == "orders"
    assert claims["jti"] == jti
    assert "exp" not in claims
    assert "sub" not in claims
    assert claims["sub_id"] == {
        "format": "complex",
        "session": {"format": "opaque", "id": "s-1"},
    }
    assert claims["events"] == {
        SESSION_REVOKED: {"event_timestamp": int(at.timestamp()), "reason_admin": {"en": "logout"}}
    }
    assert polled.more_available is False


async def test_what_is_acknowledged_is_not_sent_again_on_that_stream_and_others_still_get_it(
    world: World,
):
    """Two processes of one receiver (its token shared), and another receiver: what one
    stream acknowledges is acknowledged for it alone."""
    mine, sibling, billing = (
        await stream(world),
        await stream(world),
        await stream(world, "billing"),
    )
    for n in range(3):
        world.security_events.session_revoked(f"s-{n}", world.clock.now())

    def poll(stream_id: str, receiver: str = "orders", **more: Any) -> Any:
        command = PollCommand(
            receiver=receiver, stream_id=stream_id, return_immediately=True, **more
        )
        return world.poll_security_events.execute(command)

    first = await poll(mine, max_events=2)
    second = await poll(mine, acknowledged=list(first.sets))
    assert (len(first.sets), first.more_available) == (2, True)
    assert list(second.sets) == ["3"]
    assert len((await poll(sibling)).sets) == 3
    assert len((await poll(billing, "billing")).sets) == 3


async def test_a_new_stream_gets_every_end_still_kept_even_those_acknowledged_before(
    world: World,
):
    """A verifier that starts again opens a new stream: it learns the sessions that ended
    while it was down, and before, for as long as their tokens may live."""
    before = await stream(world)
    world.security_events.session_revoked("s-1", world.clock.now() - timedelta(minutes=10))
    read_before = await world.poll_security_events.execute(
        PollCommand(receiver="orders", stream_id=before, return_immediately=True)
    )
    await world.poll_security_events.execute(
        PollCommand(receiver="orders", stream_id=before, acknowledged=list(read_before.sets))
    )

    polled = await world.poll_security_events.execute(
        PollCommand(receiver="orders", stream_id=await stream(world), return_immediately=True)
    )

    assert list(polled.sets) == list(read_before.sets)


async def test_another_receivers_stream_or_a_closed_one_is_not_found(world: World):
    theirs = await stream(world, "billing")
    closed = await stream(world)
    await world.close_signal_stream.execute("orders", closed)

    for stream_id in (theirs, closed, "no-such-stream"):
        with pytest.raises(SignalStreamNotFound):
            await world.poll_security_events.execute(
                PollCommand(receiver="orders", stream_id=stream_id, return_immediately=True)
            )
        with pytest.raises(SignalStreamNotFound):
            await world.read_signal_streams.execute("orders", stream_id)
    with pytest.raises(SignalStreamNotFound):
        await world.close_signal_stream.execute("orders", theirs)
    assert [s.id for s in await world.read_signal_streams.execute("billing", None)] == [theirs]


async def test_a_receiver_holds_a_bounded_number_of_streams(world: World):
    for _ in range(SIGNAL_STREAMS):
        await stream(world)
    with pytest.raises(TooManySignalStreams):
        await stream(world)
    assert len(await world.read_signal_streams.execute("orders", None)) == SIGNAL_STREAMS
    await stream(world, "billing")  # another receiver's streams are its own


async def test_a_stream_is_by_poll_only(world: World):
    with pytest.raises(ValidationFailed):
        await world.open_signal_stream.execute("orders", "urn:ietf:rfc:8935")  # push


async def test_events_older_than_an_access_token_are_no_longer_sent(world: World):
    world.security_events.session_revoked("old", world.clock.now() - timedelta(minutes=17))

    polled = await world.poll_security_events.execute(
        PollCommand(receiver="orders", stream_id=await stream(world), return_immediately=True)
    )

    assert polled.sets == {}


async def test_a_long_poll_waits_for_an_event_then_answers_empty(world: World):
    started = time.monotonic()
    command = PollCommand(receiver="orders", stream_id=await stream(world))
    polled = await world.poll_security_events.execute(command)
    assert polled.sets == {}
    assert time.monotonic() - started >= 0.25  # the world's wait is 0.3 s


@pytest.mark.parametrize("max_events", [-1, 1001])
async def test_max_events_out_of_range_is_a_validation_problem(world: World, max_events: int):
    with pytest.raises(ValidationFailed):
        await world.poll_security_events.execute(
            PollCommand(receiver="orders", stream_id=await stream(world), max_events=max_events)
        )


@pytest.mark.parametrize(
    "bearer", [None, "", "orders-bearer-0123456789abcdefghijklmX", "orders", "x" * 300]
)
def test_only_a_configured_receivers_token_names_it(world: World, bearer: str | None):
    assert world.signal_receivers.authenticate(SIGNAL_RECEIVERS["orders"]) == "orders"
    with pytest.raises(InvalidReceiver):
        world.signal_receivers.authenticate(bearer)


# A waiting poll reads what its stream has not acknowledged (a scan of every event kept) when
# an event was written since it last looked, and once a second all the same: not at every
# check, which each waiting stream made ten times a second.


class CountedEvents(MemorySecurityEvents):
    def __init__(self) -> None:
        super().__init__()
        self.reads = 0

    async def unacknowledged(
        self, stream_id: str, since: datetime, limit: int
    ) -> list[SecurityEvent]:
        self.reads += 1
        return await super().unacknowledged(stream_id, since, limit)


def waiting(world: World, events: MemorySecurityEvents) -> PollSecurityEvents:
    policy = SignalPolicy(
        issuer=ISSUER, keep=timedelta(minutes=16), wait=1.0, check_every=0.01, look_again_every=0.4
    )
    return PollSecurityEvents(
        events=events, signer=world.access_tokens, clock=world.clock, policy=policy
    )


async def opened_on(world: World, events: MemorySecurityEvents) -> str:
    policy = SignalPolicy(issuer=ISSUER, keep=timedelta(minutes=16))
    opening = OpenSignalStream(events=events, clock=world.clock, policy=policy)
    return (await opening.execute("orders", POLL_DELIVERY)).id


async def test_a_waiting_poll_reads_its_events_once_a_second_not_at_every_check(world: World):
    events = CountedEvents()
    poll = waiting(world, events)
    command = PollCommand(receiver="orders", stream_id=await opened_on(world, events))

    started = time.monotonic()
    assert (await poll.execute(command)).sets == {}

    assert time.monotonic() - started >= 0.95  # it waited the whole second
    assert events.reads <= 4  # at the start, then every 0.4 s: not a hundred times


async def test_a_waiting_poll_answers_as_soon_as_an_event_is_written(world: World):
    events = CountedEvents()
    poll = waiting(world, events)
    command = PollCommand(receiver="orders", stream_id=await opened_on(world, events))
    answer = asyncio.create_task(poll.execute(command))
    await asyncio.sleep(0.05)

    events.session_revoked("s-1", world.clock.now())
    started = time.monotonic()
    polled = await answer

    assert len(polled.sets) == 1
    assert time.monotonic() - started < 0.2  # not at the next look of every 0.4 s


async def test_an_event_that_shows_up_below_the_newest_is_sent_at_the_next_look(world: World):
    """PostgreSQL draws an event's id at the insert and shows it at the commit: an event can
    become visible with an id below the newest a waiting poll has seen."""
    events = CountedEvents()
    poll = waiting(world, events)
    stream = await opened_on(world, events)
    seen = events.session_revoked("s-2", world.clock.now())
    await poll.execute(PollCommand(receiver="orders", stream_id=stream, max_events=0))
    await events.polled("orders", stream, world.clock.now(), [seen.id])
    answer = asyncio.create_task(poll.execute(PollCommand(receiver="orders", stream_id=stream)))
    await asyncio.sleep(0.05)

    late = events.session_revoked("s-1", world.clock.now())
    events.events = [replace(late, id=0), seen]  # committed late, with an id drawn earlier
    started = time.monotonic()
    polled = await answer

    assert list(polled.sets) == ["0"]
    assert time.monotonic() - started < 0.8  # the next look (0.4 s), not the wait's end (1 s)


async def test_a_poll_whose_stream_is_closed_while_it_waits_is_told_the_stream_is_gone(
    world: World,
):
    """Closing a stream takes its acknowledgements: read after that, every event kept would
    look unsent and go out again on a stream nobody holds."""
    events = CountedEvents()
    poll = waiting(world, events)
    stream = await opened_on(world, events)
    sent = events.session_revoked("s-1", world.clock.now())
    await events.polled("orders", stream, world.clock.now(), [sent.id])
    answer = asyncio.create_task(poll.execute(PollCommand(receiver="orders", stream_id=stream)))
    await asyncio.sleep(0.05)

    assert await events.close_stream("orders", stream)
    started = time.monotonic()

    with pytest.raises(SignalStreamNotFound):
        await answer
    assert time.monotonic() - started < 0.8  # the next look (0.4 s), not the wait's end (1 s)
