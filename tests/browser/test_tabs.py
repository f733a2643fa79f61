"""Tabs of one browser share the HttpOnly refresh cookie: the client refreshes ahead of
expiry and on a 401, two tabs refreshing at once both stay signed in (the grace rule), and a
session that ends, whether by logout or by a replayed stolen cookie, ends in every tab.

The tabs' clocks are Playwright's: moving a tab's clock forward makes its client think the
token is about to expire (the refresh ahead of expiry) without waiting. The server's clock is
real: the one test of a token the server refuses as expired uses the package's aged tab,
signed in before the first browser test, so the 60 s its token lives (the shortest
AUTH_ACCESS_TTL allowed) mostly pass while the other tests run.
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING

import httpx

from tests.browser.conftest import ACCESS_TTL, GRACE, AgedTab, Demo
from tests.browser.steps import (
    Traffic,
    call_me,
    expect,
    expect_settled,
    expect_signed_in,
    expect_signed_out,
    open_demo,
    signed_up,
)

if TYPE_CHECKING:
    from playwright.sync_api import BrowserContext, Route

# Past the client's refresh-ahead point (a quarter of the lifetime before expiry), not past
# the expiry itself.
NEARLY_EXPIRED = "00:50"


def refresh_cookie(context: BrowserContext) -> str:
    (cookie,) = [c for c in context.cookies() if c["name"] == "refresh_id"]
    assert cookie["httpOnly"]
    return cookie["value"]


def test_a_token_about_to_expire_is_refreshed_before_the_call(demo: Demo, context: BrowserContext):
    context.clock.install()
    traffic = Traffic.of(context)
    page, email = signed_up(context, demo, "ahead")
    before = refresh_cookie(context)

    mark = len(traffic.requests)
    page.clock.fast_forward(NEARLY_EXPIRED)
    call_me(page)
    expect(page.locator("#notice")).to_have_text("GET /auth/me answered.")
    expect_signed_in(page, email)
    assert refresh_cookie(context) != before  # rotated
    # No 401 on the way: the token was renewed before the call. (The page's other reads,
    # the activity list among them, may go out around it.)
    calls = traffic.calls(mark)
    assert [status for _, status in calls] == [200] * len(calls), calls
    paths = [path for path, _ in calls]
    assert paths.count("refresh") == 1, calls
    assert paths.index("refresh") < paths.index("me"), calls


def test_two_tabs_refreshing_at_the_same_moment_both_stay_signed_in(
    demo: Demo, context: BrowserContext
):
    context.clock.install()
    first, email = signed_up(context, demo, "tabs")
    second = open_demo(context, demo)  # restores the session from the shared cookie
    expect_signed_in(second, email)
    shared = refresh_cookie(context)

    # Hold both tabs' refreshes until both are on their way with the same cookie.
    held: list[Route] = []

    def hold(route: Route) -> None:
        held.append(route)

    context.route("**/auth/refresh", hold)
    context.clock.fast_forward(NEARLY_EXPIRED)
    call_me(first)
    call_me(second)
    deadline = time.monotonic() + 10
    while len(held) < 2 and time.monotonic() < deadline:
        first.wait_for_timeout(20)
    assert len(held) == 2
    assert all(f"refresh_id={shared}" in r.request.all_headers()["cookie"] for r in held)
    for route in held:
        route.continue_()
    context.unroute("**/auth/refresh", hold)

    for tab in (first, second):
        expect(tab.locator("#notice")).to_have_text("GET /auth/me answered.")
        expect_signed_in(tab, email)
        expect(tab.locator("#sessions tbody tr")).to_have_count(1)
    demo.shot(first, "two-tabs-after-refreshing-together")
    # Both got the same successor: one live refresh token, and it works.
    after = refresh_cookie(context)
    assert after != shared
    again = httpx.post(f"{demo.server.url}/auth/refresh", cookies={"refresh_id": after})
    assert again.status_code == 200, again.text


def test_a_stolen_cookie_replayed_after_the_grace_signs_every_tab_out(
    demo: Demo, context: BrowserContext
):
    context.clock.install()
    first, email = signed_up(context, demo, "victim")
    second = open_demo(context, demo)
    expect_signed_in(second, email)
    stolen = refresh_cookie(context)

    context.clock.fast_forward(NEARLY_EXPIRED)
    call_me(first)  # the owner's tab refreshes: the stolen copy is now the previous token
    expect(first.locator("#notice")).to_have_text("GET /auth/me answered.")
    assert refresh_cookie(context) != stolen
    time.sleep(GRACE + 0.5)

    replay = httpx.post(f"{demo.server.url}/auth/refresh", cookies={"refresh_id": stolen})
    assert replay.status_code == 401
    assert replay.json()["code"] == "refresh_token_reused"

    for tab in (first, second):
        call_me(tab)
        expect_signed_out(tab, "Your session ended")
    demo.shot(second, "signed-out-after-reuse")


def test_logging_out_in_one_tab_signs_the_other_out_at_its_next_call(
    demo: Demo, context: BrowserContext
):
    first, email = signed_up(context, demo, "leaver")
    second = open_demo(context, demo)
    expect_signed_in(second, email)
    expect_settled(second)

    first.locator("#logout").click()
    expect_signed_out(first, "You signed out.")
    expect_signed_in(second, email)  # nothing tells it yet
    call_me(second)
    expect_signed_out(second, "Your session ended")
    second.reload()
    expect_signed_out(second)


def test_a_token_the_server_finds_expired_is_refreshed_and_the_call_retried(aged_tab: AgedTab):
    """Last in the package (test files run in name order): by now the aged tab's token has
    mostly aged while the other tests ran."""
    time.sleep(max(0.0, aged_tab.signed_in_at + ACCESS_TTL + 1.5 - time.monotonic()))
    page, traffic = aged_tab.page, aged_tab.traffic
    seen = len(traffic.requests)

    call_me(page)
    expect(page.locator("#notice")).to_have_text("GET /auth/me answered.")
    expect_signed_in(page, aged_tab.email)
    assert traffic.calls(seen)[:3] == [("me", 401), ("refresh", 200), ("me", 200)]
    retried = traffic.requests[seen + 2].headers["authorization"]
    assert retried != traffic.requests[seen].headers["authorization"]
