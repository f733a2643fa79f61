"""GET /metrics: Prometheus text, scraped before and after real traffic through the app."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from standardwebhooks.webhooks import Webhook

from application.webhooks.signing import new_secret
from infrastructure.config import Settings
from tests.http.admin_helpers import an_admin
from tests.http.helpers import PASSWORD, assert_problem, refresh_with, register, sign_up
from tests.http.scrape import Samples, grown, scrape
from tests.http.test_signup_hardening import signup, with_turnstile
from tests.servers.turnstile import FakeTurnstile
from tests.servers.webhooks import WebhookReceiver

GRACE = 10


@pytest.fixture
def turnstile() -> Iterator[FakeTurnstile]:
    with FakeTurnstile() as fake:
        yield fake


LOGIN = {"method": "POST", "path": "/auth/login", "app_name": "authgate"}


async def test_sign_ins_and_http_requests_are_counted_after_real_traffic(client: Any) -> None:
    before = await scrape(client)
    await register(client)
    assert (
        await client.post("/auth/login", json={"email": "user@site.com", "password": PASSWORD})
    ).status_code == 200
    wrong = await client.post(
        "/auth/login", json={"email": "user@site.com", "password": "wrong-pass"}
    )
    assert_problem(wrong, 401, "invalid_credentials")
    after = await scrape(client)

    assert grown(before, after, "authgate_logins_total", outcome="succeeded") == 1
    assert grown(before, after, "authgate_logins_total", outcome="failed") == 1
    assert grown(before, after, "authgate_requests_total", **LOGIN, status_code="200") == 1
    assert grown(before, after, "authgate_requests_total", **LOGIN, status_code="401") == 1
    latency = "authgate_request_duration_seconds_count"
    assert grown(before, after, latency, **LOGIN, status_code="401") == 1
    assert (
        grown(before, after, "authgate_request_duration_seconds_sum", **LOGIN, status_code="401")
        >= 0.3
    )


async def test_requests_are_labelled_by_route_template_and_none_stays_in_progress(
    client: Any,
) -> None:
    device = await sign_up(client)
    sessions = (await client.get("/auth/sessions", headers=device.headers)).json()["sessions"]
    before = await scrape(client)
    for _ in range(3):
        ended = await client.delete(f"/auth/sessions/{sessions[0]['id']}x", headers=device.headers)
        assert ended.status_code == 404
    after = await scrape(client)

    end = {"method": "DELETE", "path": "/auth/sessions/{session_id}", "app_name": "authgate"}
    assert grown(before, after, "authgate_requests_total", **end, status_code="404") == 3
    assert (
        grown(before, after, "authgate_request_duration_seconds_count", **end, status_code="404")
        == 3
    )
    assert (
        after[("authgate_requests_in_progress", frozenset({**end, "status_code": "200"}.items()))]
        == 0
    )
    assert not any(
        name == "authgate_requests_error_total"
        and ("path", "/auth/sessions/{session_id}") in labels
        for name, labels in after
    )


async def test_refreshes_are_counted_rotated_grace_reused_and_invalid(
    client: Any, clock: Any
) -> None:
    device = await sign_up(client)
    before = await scrape(client)
    assert (await refresh_with(client, device.refresh_token)).status_code == 200
    assert (await refresh_with(client, device.refresh_token)).status_code == 200  # in the grace
    clock.advance(GRACE + 1)
    assert_problem(await refresh_with(client, device.refresh_token), 401, "refresh_token_reused")
    assert_problem(await refresh_with(client, "x" * 43), 401, "invalid_refresh_token")
    after = await scrape(client)

    for outcome in ("rotated", "grace", "reused", "invalid"):
        assert grown(before, after, "authgate_refreshes_total", outcome=outcome) == 1, outcome


async def test_rate_limited_requests_are_counted_by_limit(make_client: Any) -> None:
    async with make_client(register_limit=1) as client:
        before = await scrape(client)
        await register(client, "one@site.com")
        refused = await client.post(
            "/auth/register", json={"email": "two@site.com", "password": PASSWORD}
        )
        assert_problem(refused, 429, "too_many_requests")
        after = await scrape(client)
    assert grown(before, after, "authgate_rate_limited_total", limit="register") == 1


async def test_captcha_checks_are_counted_by_outcome(
    make_client: Any, turnstile: FakeTurnstile
) -> None:
    async with with_turnstile(make_client, turnstile) as client:
        before = await scrape(client)
        for mode, email in (
            ("fail", "a@site.com"),
            ("error500", "b@site.com"),
            ("pass", "c@site.com"),
        ):
            turnstile.mode = mode  # type: ignore[assignment]
            await client.post("/auth/register", json={**signup(), "email": email})
        after = await scrape(client)
    for outcome in ("failed", "unavailable", "passed"):
        assert grown(before, after, "authgate_captcha_checks_total", outcome=outcome) == 1, outcome


async def test_the_outbox_gauges_are_exposed_for_the_mail_sender_to_feed(
    make_client: Any,
) -> None:
    from infrastructure.metrics import record_outbox

    # The sender reports at its start, then once a poll interval: our values are recorded
    # after its first report, and the next one is a minute away (a loaded machine's scrape
    # can take longer than the default second).
    record_outbox(-1, None)
    depth = ("authgate_outbox_depth", frozenset[tuple[str, str]]())
    async with make_client(outbox_poll_interval=60) as client:
        for _ in range(100):
            if (await scrape(client))[depth] != -1:
                break
            await asyncio.sleep(0.05)
        record_outbox(3, 42.0)
        after = await scrape(client)
    assert after[("authgate_outbox_depth", frozenset())] == 3
    assert after[("authgate_outbox_oldest_age_seconds", frozenset())] == 42.0


async def test_metrics_switched_off_is_404(make_client: Any) -> None:
    async with make_client(metrics=False) as client:
        response = await client.get("/metrics")
    assert response.status_code == 404


async def test_the_mail_sender_reports_the_outbox_backlog(client: Any) -> None:
    """Register queues a verification mail; the sender's next poll reports the backlog."""
    from infrastructure.metrics import record_outbox

    record_outbox(-1, None)  # a depth no poll reports: the gauge must be set again
    await sign_up(client)
    depth = ("authgate_outbox_depth", frozenset[tuple[str, str]]())
    for _ in range(100):
        after = await scrape(client)
        if after[depth] != -1:
            break
        await asyncio.sleep(0.05)
    assert after[depth] in (0, 1)  # the verification mail, waiting or already delivered


async def test_webhook_outcomes_and_queue_age_are_counted_after_a_delivery(
    make_client: Any, settings: Settings, clock: Any
) -> None:
    """A receiver answering 500 then 204, and a target inside the network: each attempt is
    counted by its outcome, and the sender's polls report the webhook queue."""
    with WebhookReceiver(new_secret(), 500) as receiver:
        async with make_client(webhook_allow_http=True, outbox_poll_interval=0.05) as client:
            admin = await an_admin(client, settings)
            before = await scrape(client)
            for url in ("https://10.0.0.1/hooks", receiver.url):
                added = await client.post(
                    "/admin/webhooks",
                    json={"url": url, "events": ["user.created"]},
                    headers=admin.headers,
                )
            receiver.verifier = Webhook(added.json()["secret"])
            await sign_up(client, "watched@site.com")
            after = await scrape_until(
                client, lambda s: grown(before, s, DELIVERIES, outcome="failed") >= 2
            )
            assert grown(before, after, DELIVERIES, outcome="refused") >= 1
            clock.advance(10)  # past the first retry's backoff
            await scrape_until(client, lambda s: grown(before, s, DELIVERIES, outcome="delivered"))
            # The next poll finds the refused one alone, waiting since before the clock moved.
            after = await scrape_until(client, lambda s: s[QUEUE_DEPTH] == 1)

    assert [r.type for r in receiver.delivered()] == ["user.created"]
    assert grown(before, after, DELIVERIES, outcome="delivered") == 1
    assert after[QUEUE_AGE] >= 10


DELIVERIES = "authgate_webhook_deliveries_total"
QUEUE_DEPTH = ("authgate_webhook_queue_depth", frozenset[tuple[str, str]]())
QUEUE_AGE = ("authgate_webhook_queue_oldest_age_seconds", frozenset[tuple[str, str]]())


async def scrape_until(client: Any, done: Callable[[Samples], object]) -> Samples:
    for _ in range(200):
        samples = await scrape(client)
        if done(samples):
            return samples
        await asyncio.sleep(0.05)
    raise AssertionError("the sender did not get there in 10 s")
