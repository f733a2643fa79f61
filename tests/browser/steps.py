"""What a person does on the demo, as test steps: open it, fill a form, click, read.

Playwright is imported where it is used, so that without it the tests are collected and
skip (or fail under AUTH_TEST_REQUIRE_BACKENDS=1) with the reason the ``browser`` fixture
gives, instead of breaking collection.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass, field
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

from tests.browser.conftest import PASSWORD, Demo

if TYPE_CHECKING:
    from playwright.sync_api import BrowserContext, Locator, Page, Request
    from playwright.sync_api._generated import LocatorAssertions


def expect(locator: Locator) -> LocatorAssertions:
    from playwright.sync_api import expect as playwright_expect

    return playwright_expect(locator)


def new_email(who: str) -> str:
    return f"{who}-{secrets.token_hex(3)}@example.test"


def open_demo(context: BrowserContext, demo: Demo, url: str | None = None) -> Page:
    """A new tab on /demo (or the demo at ``url``), once it knows whether the cookie holds a
    session."""
    page = context.new_page()
    goto_demo(page, url or demo.url)
    return page


def goto_demo(page: Page, url: str) -> None:
    page.goto(url)
    expect(page.locator("#status")).not_to_have_text("Loading…")


def register(page: Page, email: str, name: str = "Ada") -> None:
    form = page.locator("#register-form")
    form.get_by_label("Name").fill(name)
    form.get_by_label("Email").fill(email)
    form.get_by_label("Password").fill(PASSWORD)
    form.get_by_role("button", name="Create the account").click()
    expect_signed_in(page, email)


def log_in(page: Page, email: str, password: str = PASSWORD) -> None:
    form = page.locator("#login-form")
    form.get_by_label("Email").fill(email)
    form.get_by_label("Password").fill(password)
    form.get_by_role("button", name="Log in").click()


def signed_up(context: BrowserContext, demo: Demo, who: str) -> tuple[Page, str]:
    page = open_demo(context, demo)
    email = new_email(who)
    register(page, email)
    return page, email


def verify_address(page: Page, demo: Demo, email: str) -> None:
    """Open the mailed link on the page's own origin (where its session's cookie lives, so
    that session stays), then come back to the demo signed in. Second factors need it."""
    here = page.evaluate("location.origin") + urlsplit(demo.url).path
    page.goto(demo.mail_link(email, "Confirm your email address").replace(demo.url, here, 1))
    expect(page.locator("#notice")).to_have_text(f"{email} is verified. Thank you!")
    goto_demo(page, here)
    expect_signed_in(page, email)


def call_me(page: Page) -> None:
    page.locator("#call-me").click()


def expect_signed_in(page: Page, email: str) -> None:
    expect(page.locator("#status")).to_have_text(f"Signed in as {email}")
    expect(page.locator("#signed-in")).to_be_visible()


def expect_settled(page: Page) -> None:
    """A signed-in page has made the calls it makes on opening: its activity, read last, is
    shown (one still in flight when another tab signs out would be answered 401)."""
    expect(page.locator("#activity tbody tr").first).to_be_visible()


def expect_signed_out(page: Page, notice: str | None = None) -> None:
    expect(page.locator("#status")).to_have_text("Signed out")
    expect(page.locator("#login-form")).to_be_visible()
    if notice is not None:
        expect(page.locator("#notice")).to_contain_text(notice)


def session_rows(page: Page) -> int:
    return page.locator("#sessions tbody tr").count()


@dataclass
class Traffic:
    """Every request a browser profile makes: the URLs, and the access tokens it sent."""

    requests: list[Request] = field(default_factory=list)

    @classmethod
    def of(cls, context: BrowserContext) -> Traffic:
        traffic = cls()
        context.on("request", traffic._seen)
        return traffic

    def _seen(self, request: Request) -> None:
        self.requests.append(request)

    def to(self, path: str) -> list[Request]:
        return [r for r in self.requests if r.url.split("?")[0].endswith(path)]

    def access_tokens(self) -> set[str]:
        sent = (r.headers.get("authorization", "") for r in self.requests)
        return {value.removeprefix("Bearer ") for value in sent if value.startswith("Bearer ")}

    def urls(self) -> list[str]:
        return [r.url for r in self.requests]

    def calls(self, since: int = 0) -> list[tuple[str, int | None]]:
        """(last path segment, status) of each request from ``since`` on."""
        return [(r.url.rsplit("/", 1)[-1], status(r)) for r in self.requests[since:]]


def status(request: Request) -> int | None:
    response = request.response()
    return None if response is None else response.status


def expect_no_token_at_rest(page: Page, traffic: Traffic) -> None:
    """Nothing but the client's memory holds an access token: not web storage, not a cookie
    script can read, not a URL; and the refresh cookie is HttpOnly."""
    tokens = traffic.access_tokens()
    assert tokens, "no access token was ever sent"
    kept = page.evaluate(
        "() => JSON.stringify([{...localStorage}, {...sessionStorage}, document.cookie,"
        " location.href, history.length])"
    )
    for token in tokens:
        assert token not in kept
        assert not any(token in url for url in traffic.urls())
    cookies = page.context.cookies()
    assert [c["name"] for c in cookies if not c["httpOnly"]] == []
