"""The Shared Signals transmitter (application/signals.py): a receiver polls for the
sessions that ended, gets signed CAEP session-revoked SETs, and acknowledges them."""

from __future__ import annotations

import time
from datetime import timedelta
from typing import Any, cast

import pytest
from joserfc import jwt
from joserfc.jwk import KeySet

from application.signals import PollCommand
from domain.errors import InvalidReceiver, ValidationFailed
from tests.unit.world import ISSUER, SIGNAL_RECEIVERS, World

SESSION_REVOKED = "https://schemas.openid.net/secevent/caep/event-type/session-revoked"


def read(world: World, token: str) -> tuple[dict[str, object], dict[str, object]]:
    keys = KeySet.import_key_set(cast(Any, world.access_tokens.jwks()))
    decoded = jwt.decode(token, keys, algorithms=["ES256"])
    return dict(decoded.header), dict(decoded.claims)


async def test_a_receiver_gets_each_ended_session_as_a_signed_caep_event(world: World):
    at = world.clock.now() - timedelta(seconds=5)
    world.security_events.session_revoked("s-1", at, reason="logout")

    polled = await world.poll_security_events.execute(
        PollCommand(receiver="orders", return_immediately=True)
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


async def test_what_is_acknowledged_is_not_sent_again_and_other_receivers_still_get_it(
    world: World,
):
    for n in range(3):
        world.security_events.session_revoked(f"s-{n}", world.clock.now())

    first = await world.poll_security_events.execute(
        PollCommand(receiver="orders", max_events=2, return_immediately=True)
    )
    second = await world.poll_security_events.execute(
        PollCommand(receiver="orders", acknowledged=list(first.sets), return_immediately=True)
    )
    others = await world.poll_security_events.execute(
        PollCommand(receiver="billing", return_immediately=True)
    )

    assert (len(first.sets), first.more_available) == (2, True)
    assert list(second.sets) == ["3"]
    assert len(others.sets) == 3


async def test_events_older_than_an_access_token_are_no_longer_sent(world: World):
    world.security_events.session_revoked("old", world.clock.now() - timedelta(minutes=17))

    polled = await world.poll_security_events.execute(
        PollCommand(receiver="orders", return_immediately=True)
    )

    assert polled.sets == {}


async def test_a_long_poll_waits_for_an_event_then_answers_empty(world: World):
    started = time.monotonic()
    polled = await world.poll_security_events.execute(PollCommand(receiver="orders"))
    assert polled.sets == {}
    assert time.monotonic() - started >= 0.25  # the world's wait is 0.3 s


@pytest.mark.parametrize("max_events", [-1, 1001])
async def test_max_events_out_of_range_is_a_validation_problem(world: World, max_events: int):
    with pytest.raises(ValidationFailed):
        await world.poll_security_events.execute(
            PollCommand(receiver="orders", max_events=max_events)
        )


@pytest.mark.parametrize(
    "bearer", [None, "", "orders-bearer-0123456789abcdefghijklmX", "orders", "x" * 300]
)
def test_only_a_configured_receivers_token_names_it(world: World, bearer: str | None):
    assert world.signal_receivers.authenticate(SIGNAL_RECEIVERS["orders"]) == "orders"
    with pytest.raises(InvalidReceiver):
        world.signal_receivers.authenticate(bearer)
