"""The webhook transport against a receiver on loopback: SSRF refusals at delivery time
(OWASP SSRF Prevention Cheat Sheet) and a hanging receiver costing the timeout only."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator

import httpx
import pytest

from application.webhooks.signing import headers, new_secret
from domain.ports import WebhookUnreachable
from infrastructure.webhooks.http import HttpWebhookTransport
from tests.servers.webhooks import ENDLESS, HANG, WebhookReceiver


@pytest.fixture
async def http() -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(trust_env=False) as client:
        yield client


def transport(
    http: httpx.AsyncClient, *, allow_http: bool, allow_private: bool = False
) -> HttpWebhookTransport:
    return HttpWebhookTransport(
        http, allow_http=allow_http, allow_private=allow_private, timeout=0.5
    )


async def test_http_to_loopback_goes_only_when_allowed(http: httpx.AsyncClient) -> None:
    with WebhookReceiver("whsec_c2VjcmV0") as receiver:
        url = receiver.url.replace("127.0.0.1", "localhost")
        assert await transport(http, allow_http=True).post(url, {}, b"{}") == 400  # unsigned
        with pytest.raises(WebhookUnreachable, match="refused"):
            await transport(http, allow_http=False, allow_private=True).post(url, {}, b"{}")
    assert len(receiver.rejected) == 1


@pytest.mark.parametrize(
    "url",
    [
        "https://127.0.0.1/hooks",
        "https://10.1.2.3/hooks",
        "https://192.168.0.1/hooks",
        "https://169.254.169.254/latest/meta-data",
        "https://[::1]/hooks",
        "https://[fe80::1]/hooks",
        "https://localhost/hooks",
        # IPv6 addresses carrying an internal IPv4 one (a translator or tunnel reaches it)
        "https://[::ffff:10.0.0.1]/hooks",
        "https://[::127.0.0.1]/hooks",
        "https://[64:ff9b::a9fe:a9fe]/latest/meta-data",
        "https://[64:ff9b:1::808:808]/hooks",
        "https://[2002:7f00:1::]/hooks",
        "https://[::ffff:0:a9fe:a9fe]/latest/meta-data",  # SIIT, RFC 2765
        "https://[fec0::1]/hooks",  # site-local, deprecated
    ],
)
async def test_internal_targets_are_refused_at_delivery_time(
    http: httpx.AsyncClient, url: str
) -> None:
    with pytest.raises(WebhookUnreachable, match="internal"):
        await transport(http, allow_http=False).post(url, {}, b"{}")


async def test_a_hanging_receiver_costs_the_timeout_and_no_more(http: httpx.AsyncClient) -> None:
    secret, body = new_secret(), b'{"type":"user.created","data":{}}'
    with WebhookReceiver(secret, HANG) as receiver:
        signed = headers((secret,), "msg_1", int(time.time()), body)
        started = time.monotonic()
        with pytest.raises(WebhookUnreachable, match="timeout"):
            await transport(http, allow_http=True).post(receiver.url, signed, body)
        assert time.monotonic() - started < 2


async def test_only_the_status_of_an_answer_is_read_never_its_body(
    http: httpx.AsyncClient,
) -> None:
    """A receiver's body (a decompression bomb, or one without end) costs nothing: the
    status line is all a delivery needs."""
    secret, body = new_secret(), b'{"type":"user.created","data":{}}'
    with WebhookReceiver(secret, ENDLESS) as receiver:
        signed = headers((secret,), "msg_1", int(time.time()), body)
        assert await transport(http, allow_http=True).post(receiver.url, signed, body) == 200
