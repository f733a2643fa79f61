"""Webhooks delivered from the SQL outbox (SQLite and PostgreSQL) to a real receiver on
loopback that verifies each signature with the Standard Webhooks reference library: every
event arrives after 5xx answers, a hanging receiver and one closing the connection, in order
per user, a retried event keeps its webhook-id, 410 disables the endpoint, and a sender
stopped mid-delivery leaves the event to the next one."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Iterator
from datetime import timedelta

import httpx
import pytest

from application.admin import CLI
from application.webhooks.endpoints import ManageWebhooks
from application.webhooks.sender import WebhookPolicy, WebhookSender
from application.webhooks.signing import new_secret
from domain.ports import Clock, NewWebhookEndpoint, WebhookEndpoint, WebhookEvent
from infrastructure.persistence.database import Database
from infrastructure.persistence.sessions import SqlSessionRepository
from infrastructure.persistence.webhooks import SqlWebhookEndpoints, SqlWebhookOutbox
from infrastructure.system import SystemClock
from infrastructure.webhooks.http import HttpWebhookTransport
from tests.contract.webhook_helpers import BOX, start_session
from tests.fakes.clock import FakeClock
from tests.fakes.security import RecordingAudit
from tests.servers.webhooks import CLOSE, HANG, WebhookReceiver

SECRET = new_secret()
EVENTS = (WebhookEvent.SESSION_CREATED, WebhookEvent.SESSION_REVOKED)
ONE, TWO = 1, 2  # the two session owners
FAST = WebhookPolicy(first_retry=timedelta(milliseconds=20), max_retry=timedelta(seconds=0.2))


@pytest.fixture
def database(mail_clients: Callable[[], Database]) -> Database:
    return mail_clients()


@pytest.fixture
def receiver(request: pytest.FixtureRequest) -> Iterator[WebhookReceiver]:
    with WebhookReceiver(SECRET, *getattr(request, "param", ())) as receiver:
        yield receiver


@pytest.fixture
async def sender(database: Database) -> WebhookSender:
    return a_sender(database, SystemClock())


def a_sender(database: Database, clock: Clock) -> WebhookSender:
    http = httpx.AsyncClient(trust_env=False)
    transport = HttpWebhookTransport(http, allow_http=True, allow_private=False, timeout=0.5)
    return WebhookSender(
        outbox=SqlWebhookOutbox(database, BOX),
        transport=transport,
        policy=FAST,
        clock=clock,
        audit=RecordingAudit(),
    )


async def subscribe(database: Database, url: str) -> WebhookEndpoint:
    return await SqlWebhookEndpoints(database, BOX).add(
        NewWebhookEndpoint(url=url, events=EVENTS, secret=SECRET, created_at=SystemClock().now())
    )


async def deliver_until(sender: WebhookSender, done: Callable[[], bool]) -> None:
    deadline = time.monotonic() + 20
    while not done():
        assert time.monotonic() < deadline, "not delivered in time"
        await sender.deliver_due()
        await asyncio.sleep(0.02)


@pytest.mark.parametrize("receiver", [(500, HANG, 503, 500)], indirect=True)
async def test_every_event_arrives_after_failures_in_order_per_user_with_one_id(
    database: Database, receiver: WebhookReceiver, sender: WebhookSender
) -> None:
    await subscribe(database, receiver.url)
    await start_session(database, "a", ONE, SystemClock().now())
    await start_session(database, "b", TWO, SystemClock().now())
    await start_session(database, "c", ONE, SystemClock().now())
    await SqlSessionRepository(database).revoke_all(ONE, SystemClock().now(), "revoke_all")

    await deliver_until(sender, lambda: len(receiver.delivered()) == 5)

    assert receiver.rejected == []
    delivered = receiver.delivered()
    assert len({r.message_id for r in delivered}) == 5
    of_one = [(r.type, r.data["session_id"]) for r in delivered if r.data["user_id"] == "1"]
    assert of_one == [
        ("session.created", "a"),
        ("session.created", "c"),
        ("session.revoked", "a"),
        ("session.revoked", "c"),
    ]
    assert [r.data.get("reason") for r in delivered if r.type == "session.revoked"] == [
        "revoke_all",
        "revoke_all",
    ]
    # At least once: a failed attempt is the same message (the same webhook-id) again.
    failed = [r for r in receiver.received if r.answered not in (200, 204)]
    assert len(failed) == 4
    assert {r.message_id for r in failed} <= {r.message_id for r in delivered}
    # In order per user, attempts included: nothing of a user overtakes its older event.
    order = [r.message_id for r in delivered if r.data["user_id"] == "1"]
    seen = [order.index(r.message_id) for r in receiver.received if r.data["user_id"] == "1"]
    assert seen == sorted(seen)


@pytest.mark.parametrize("receiver", [(410,)], indirect=True)
async def test_410_disables_the_endpoint(
    database: Database, receiver: WebhookReceiver, sender: WebhookSender
) -> None:
    endpoint = await subscribe(database, receiver.url)
    await start_session(database, "a", ONE, SystemClock().now())

    assert await sender.deliver_due() == 1
    await start_session(database, "b", ONE, SystemClock().now())
    assert await sender.deliver_due() == 0

    assert len(receiver.received) == 1
    disabled = await SqlWebhookEndpoints(database, BOX).get(endpoint.id)
    assert disabled is not None
    assert disabled.disabled_at is not None
    [attempt] = await SqlWebhookEndpoints(database, BOX).deliveries(endpoint.id, 10)
    assert (attempt.last_status, attempt.failed_at is not None) == (410, True)


@pytest.mark.parametrize("receiver", [(410,)], indirect=True)
async def test_an_endpoint_enabled_again_after_a_410_gets_what_waited(
    database: Database, receiver: WebhookReceiver, sender: WebhookSender
) -> None:
    endpoint = await subscribe(database, receiver.url)
    await start_session(database, "a", ONE, SystemClock().now())
    await start_session(database, "b", ONE, SystemClock().now())
    assert await sender.deliver_due() == 1  # 410: disabled

    manage = ManageWebhooks(
        endpoints=SqlWebhookEndpoints(database, BOX),
        policy=FAST,
        clock=SystemClock(),
        audit=RecordingAudit(),
    )
    await manage.enable(endpoint.id, CLI)
    await deliver_until(sender, lambda: len(receiver.delivered()) == 2)

    gone, *delivered = receiver.received
    assert gone.answered == 410
    assert delivered[0].message_id == gone.message_id
    assert [r.data["session_id"] for r in delivered] == ["a", "b"]


@pytest.mark.parametrize("receiver", [(CLOSE, CLOSE)], indirect=True)
async def test_a_receiver_closing_the_connection_unanswered_gets_the_event_again(
    database: Database, receiver: WebhookReceiver, sender: WebhookSender
) -> None:
    await subscribe(database, receiver.url)
    await start_session(database, "a", ONE, SystemClock().now())

    await deliver_until(sender, lambda: len(receiver.delivered()) == 1)

    assert [r.answered for r in receiver.received] == [CLOSE, CLOSE, 204]
    assert len({r.message_id for r in receiver.received}) == 1


@pytest.mark.parametrize("receiver", [(HANG,)], indirect=True)
async def test_a_sender_stopped_mid_delivery_leaves_the_event_to_the_next_after_the_lease(
    database: Database, receiver: WebhookReceiver, sender: WebhookSender
) -> None:
    """The service killed while a request is in flight, simulated in-process: the sender's
    task is cancelled with nothing settled, and a new sender claims the event once the
    lease has run out (its clock is past it) and delivers it with the same webhook-id."""
    endpoint = await subscribe(database, receiver.url)
    await start_session(database, "a", ONE, SystemClock().now())
    in_flight = asyncio.create_task(sender.deliver_due())
    await until(lambda: len(receiver.received) == 1)
    in_flight.cancel()
    with pytest.raises(asyncio.CancelledError):
        await in_flight

    during_lease = a_sender(database, SystemClock())
    assert await during_lease.deliver_due() == 0
    restarted = a_sender(database, FakeClock(SystemClock().now() + FAST.lease))
    assert await restarted.deliver_due() == 1

    first, again = receiver.received
    assert (first.answered, again.answered) == (HANG, 204)
    assert first.message_id == again.message_id
    [delivery] = await SqlWebhookEndpoints(database, BOX).deliveries(endpoint.id, 10)
    assert delivery.delivered_at is not None


async def until(done: Callable[[], bool]) -> None:
    deadline = time.monotonic() + 10
    while not done():
        assert time.monotonic() < deadline, "not there in time"
        await asyncio.sleep(0.01)
