"""A stream's configuration asked for (OpenID SSF 1.0 §8.1.1.1) and the poll request of
RFC 8936 §2.4 (their member names are the specifications')."""

from __future__ import annotations

from typing import Annotated

import msgspec

from application.signals import MAX_EVENTS, POLL_DELIVERY
from interfaces.http.requests import documented

Jti = Annotated[str, documented(min_length=1, max_length=64)]


class DeliveryRequest(msgspec.Struct, frozen=True):
    method: Annotated[str, documented(enum=[POLL_DELIVERY])] = POLL_DELIVERY


class StreamRequest(msgspec.Struct, frozen=True, omit_defaults=True):
    """Everything may be left out: a stream delivers every event authgate has
    (``events_delivered``; ``events_requested`` is not read), by poll."""

    delivery: DeliveryRequest = msgspec.field(default_factory=DeliveryRequest)


class PollRequest(msgspec.Struct, frozen=True, omit_defaults=True):
    ack: Annotated[list[Jti], documented(max_length=MAX_EVENTS)] = msgspec.field(
        default_factory=list
    )
    max_events: Annotated[int, documented(minimum=0, maximum=MAX_EVENTS)] = msgspec.field(
        default=100, name="maxEvents"
    )
    return_immediately: bool = msgspec.field(default=False, name="returnImmediately")
    # Errors the receiver had with SETs it got (RFC 8936 §2.4.3): acknowledged like "ack",
    # so a SET it cannot use is not sent again for ever.
    set_errs: dict[Jti, dict[str, str]] = msgspec.field(default_factory=dict, name="setErrs")
