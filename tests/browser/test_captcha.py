"""The demo with Turnstile on (a site key for the widget, a secret for the check): the widget
is rendered in the forms and its token reaches siteverify. Cloudflare's script is stood in
for by a double served at its real address (the browser never leaves loopback), which the
page's Content-Security-Policy must let in; without a site key the policy keeps it out."""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING

import pytest

from tests.browser.conftest import Demo
from tests.browser.steps import expect, expect_signed_in, expect_signed_out, new_email
from tests.e2e.conftest import Server, running_server
from tests.servers.turnstile import FakeTurnstile

if TYPE_CHECKING:
    from playwright.sync_api import BrowserContext, Page, Route

SITE_KEY = "1x00000000000000000000AA"  # Cloudflare's always-passing test site key
SCRIPT = "https://challenges.cloudflare.com/turnstile/v0/api.js*"
# Cloudflare's explicit-rendering API (render, getResponse, reset), as the demo uses it.
WIDGET_DOUBLE = """
(() => {
  const widgets = new Map();
  let issued = 0;
  const fresh = () => `XXXX.DUMMY.TOKEN.${++issued}`;
  window.turnstile = {
    render(container, options) {
      const id = `widget-${widgets.size + 1}`;
      container.dataset.sitekey = options.sitekey;
      container.dataset.rendered = options.action;
      container.textContent = "Turnstile (test double)";
      widgets.set(id, fresh());
      return id;
    },
    getResponse: (id) => widgets.get(id),
    reset: (id) => widgets.set(id, fresh()),
  };
})();
"""


@pytest.fixture(scope="module")
def siteverify() -> Iterator[FakeTurnstile]:
    with FakeTurnstile() as fake:
        yield fake


@pytest.fixture(scope="module")
def guarded(
    tmp_path_factory: pytest.TempPathFactory, siteverify: FakeTurnstile
) -> Iterator[Server]:
    settings = {
        "AUTH_DEMO": "true",
        "AUTH_TURNSTILE_SITE_KEY": SITE_KEY,
        "AUTH_TURNSTILE_SECRET": "1x0000000000000000000000000000000AA",
        "AUTH_TURNSTILE_VERIFY_URL": siteverify.url,
        "AUTH_REGISTER_LIMIT": "1000",
    }
    with running_server(tmp_path_factory.mktemp("turnstile"), environment=settings) as server:
        yield server


def serve_widget_double(context: BrowserContext) -> list[str]:
    """Answer the request for Cloudflare's script with the double; returns the URLs asked."""
    asked: list[str] = []

    def answer(route: Route) -> None:
        asked.append(route.request.url)
        route.fulfill(status=200, content_type="text/javascript", body=WIDGET_DOUBLE)

    context.route(SCRIPT, answer)
    return asked


def open_guarded(context: BrowserContext, server: Server) -> Page:
    page = context.new_page()
    page.goto(f"{server.url}/demo")
    expect_signed_out(page)
    expect(page.locator("#register-form .turnstile")).to_have_attribute("data-sitekey", SITE_KEY)
    return page


def register(page: Page, email: str) -> None:
    form = page.locator("#register-form")
    form.get_by_label("Email").fill(email)
    form.get_by_label("Password").fill("correct horse battery")
    form.get_by_role("button", name="Create the account").click()


def test_registering_sends_the_widgets_token_to_siteverify(
    guarded: Server, siteverify: FakeTurnstile, context: BrowserContext
):
    asked = serve_widget_double(context)
    page = open_guarded(context, guarded)
    assert asked == ["https://challenges.cloudflare.com/turnstile/v0/api.js?render=explicit"]
    expect(page.locator("#register-form .turnstile")).to_have_attribute("data-rendered", "register")
    expect(page.locator("#forgot-form .turnstile")).to_have_attribute("data-rendered", "forgot")

    siteverify.mode = "fail"
    email = new_email("human")
    register(page, email)
    expect(page.locator("#notice")).to_contain_text("[captcha_failed]")
    expect_signed_out(page)

    siteverify.mode = "pass"
    register(page, email)  # the widget started over: a fresh token
    expect_signed_in(page, email)
    tokens = [r["response"] for r in siteverify.requests[-2:]]
    assert tokens[0].startswith("XXXX.DUMMY.TOKEN.")
    assert tokens[0] != tokens[1]


def test_forgot_password_sends_the_widgets_token_too(
    guarded: Server, siteverify: FakeTurnstile, context: BrowserContext
):
    serve_widget_double(context)
    page = open_guarded(context, guarded)
    page.get_by_text("Forgot your password?").click()
    form = page.locator("#forgot-form")
    form.get_by_label("Email").fill(new_email("forgot"))
    seen = len(siteverify.requests)
    form.get_by_role("button").click()
    expect(page.locator("#notice")).to_contain_text("a reset link is on its way")
    assert siteverify.requests[seen]["response"].startswith("XXXX.DUMMY.TOKEN.")


def test_without_a_site_key_the_policy_keeps_any_other_script_out(
    demo: Demo, context: BrowserContext
):
    asked = serve_widget_double(context)
    page = context.new_page()
    violations: list[str] = []
    page.on("console", lambda message: violations.append(message.text))
    page.goto(demo.url)
    expect_signed_out(page)
    assert asked == []  # no widget to render: the script is not even asked for
    page.evaluate(
        """() => {
          const inline = document.createElement("script");
          inline.textContent = "window.injected = true";
          document.body.append(inline);
          const foreign = document.createElement("script");
          foreign.src = "https://challenges.cloudflare.com/turnstile/v0/api.js";
          document.body.append(foreign);
        }"""
    )
    page.wait_for_timeout(300)
    assert page.evaluate("() => [window.injected, window.turnstile]") == [None, None]
    assert asked == []  # refused by the policy before any request
    assert sum("Content Security Policy" in text for text in violations) >= 2
