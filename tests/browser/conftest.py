"""Real Chromium (Debian's ``chromium`` package, never a downloaded build) driven by
Playwright for Python, against a real authgate process serving the demo, with a loopback
SMTP server catching the mails and a fake OpenID provider standing in for Google.

One browser and one server serve the whole package (``scope="package"``: both are gone
before the next test directory starts). Without the browser or Playwright the tests skip, or
fail under AUTH_TEST_REQUIRE_BACKENDS=1. Screenshots of the key states go to
``<basetemp>/screenshots*``; with ``AUTH_TEST_DEMO_SCREENSHOT=docs/demo.png`` the whole-flow
test also writes the one the docs show (docs/clients/javascript.md).
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from tests.backends import unavailable
from tests.e2e.conftest import Server, free_port, running_server
from tests.servers.oidc import FakeOidcProvider
from tests.servers.smtp import SmtpSink, link_token, text_of

if TYPE_CHECKING:
    from playwright.sync_api import Browser, BrowserContext, Page

    from tests.browser.steps import Traffic

CHROMIUM = Path("/usr/bin/chromium")
# No sandbox: CI containers run as root, where Chromium's sandbox cannot start. The rest keeps
# the browser from calling home: a test never reaches an outside host.
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
PASSWORD = "correct horse battery"
ACCESS_TTL = 60  # the demo server's AUTH_ACCESS_TTL: the shortest the settings allow
GRACE = 2  # its AUTH_REFRESH_GRACE
README_SCREENSHOT = os.environ.get("AUTH_TEST_DEMO_SCREENSHOT")
README_MFA_SCREENSHOT = os.environ.get("AUTH_TEST_MFA_SCREENSHOT")
# Playwright waits this long (ms) for what a test expects to appear.
EXPECT_TIMEOUT = 10_000


@dataclass(frozen=True)
class Demo:
    server: Server
    smtp: SmtpSink
    google: FakeOidcProvider
    screenshots: Path

    @property
    def url(self) -> str:
        return f"{self.server.url}/demo"

    @property
    def passkey_url(self) -> str:
        """The demo where passkeys work: browsers take no IP address as an RP ID, so the
        loopback issuer's RP ID is ``localhost`` (AUTH_RP_ID's default), port aside."""
        return f"http://localhost:{self.server.port}/demo"

    @property
    def subdomain_url(self) -> str:
        """The demo on a subdomain the server lists in AUTH_RP_ORIGINS: its pages may ask the
        authenticator for credentials of their own RP ID, ``app.localhost``."""
        return f"http://app.localhost:{self.server.port}/demo"

    def mail_link(self, recipient: str, subject_start: str, count: int = 1) -> str:
        """The link in the ``count``-th mail to ``recipient`` whose subject starts so."""
        deadline = time.monotonic() + 10
        while len(found := self.smtp.about(recipient, subject_start)) < count:
            if time.monotonic() > deadline:
                raise AssertionError(f"no mail {subject_start!r} to {recipient}")
            time.sleep(0.05)
        message = found[count - 1]
        token = link_token(message)
        link = next(word for word in text_of(message).split() if token in word)
        return link

    def audit(self, event: str) -> list[dict[str, Any]]:
        """The server's audit lines of this event so far (JSON, one per line)."""
        lines = [json.loads(line) for line in self.server.stdout if line.startswith("{")]
        return [
            line
            for line in lines
            if line.get("logger") == "authgate.audit" and line.get("event") == event
        ]

    def next_audit(self, event: str, after: int) -> dict[str, Any]:
        """The audit line of this event that follows the first ``after`` ones, once the
        server's output reader has it."""
        deadline = time.monotonic() + 5
        while len(found := self.audit(event)) <= after:
            if time.monotonic() > deadline:
                raise AssertionError(f"no audit event {event} after the first {after}")
            time.sleep(0.05)
        return found[after]

    def shot(self, page: Page, name: str) -> Path:
        path = self.screenshots / f"{name}.png"
        page.locator("body").screenshot(path=path)
        return path


@pytest.fixture(scope="package")
def browser() -> Iterator[Browser]:
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        unavailable("Playwright for Python is not installed (uv sync installs it)")
    if not CHROMIUM.is_file():
        unavailable(f"no Chromium at {CHROMIUM} (apt-get install chromium)")
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            yield launched
        finally:
            launched.close()


@pytest.fixture(scope="package")
def demo(tmp_path_factory: pytest.TempPathFactory, browser: Browser) -> Iterator[Demo]:
    """authgate serving /demo as the quickstart does (SQLite, grants in the database), with
    access tokens of the shortest lifetime the settings allow (60 s) and a 2 s grace."""
    port = free_port()
    origin = f"http://127.0.0.1:{port}"
    with SmtpSink() as smtp, FakeOidcProvider(redirect_uri=f"{origin}/auth/google/callback") as idp:
        settings = {
            "AUTH_DEMO": "true",
            "AUTH_EMAIL_SIGNIN": "true",
            "AUTH_SMTP_URL": smtp.url,
            "AUTH_OUTBOX_POLL_INTERVAL": "0.05",
            "AUTH_ACCESS_TTL": str(ACCESS_TTL),
            "AUTH_REFRESH_GRACE": str(GRACE),
            "AUTH_GOOGLE_CLIENT_ID": idp.client_id,
            "AUTH_GOOGLE_CLIENT_SECRET": idp.client_secret,
            "AUTH_GOOGLE_REDIRECT_URI": f"{origin}/auth/google/callback",
            "AUTH_GOOGLE_DISCOVERY_URL": idp.discovery_url,
            # Passkeys: RP ID localhost (the default for a loopback issuer), and two origins.
            "AUTH_RP_ORIGINS": f"http://localhost:{port},http://app.localhost:{port}",
            # Every test signs up and in from 127.0.0.1.
            "AUTH_REGISTER_LIMIT": "1000",
            "AUTH_LOGIN_LIMIT": "1000",
            "AUTH_REFRESH_LIMIT": "1000",
        }
        workdir = tmp_path_factory.mktemp("demo-server")
        with running_server(workdir, port=port, environment=settings) as server:
            yield Demo(server, smtp, idp, tmp_path_factory.mktemp("screenshots"))


@pytest.fixture
def context(browser: Browser) -> Iterator[BrowserContext]:
    """One browser profile: its tabs share the cookie jar, as a user's tabs do."""
    from playwright.sync_api import expect

    expect.set_options(timeout=EXPECT_TIMEOUT)
    opened = browser.new_context(viewport={"width": 1100, "height": 800})
    opened.set_default_timeout(EXPECT_TIMEOUT)
    try:
        yield opened
    finally:
        opened.close()


@dataclass
class AgedTab:
    page: Page
    email: str
    traffic: Traffic
    signed_in_at: float


@pytest.fixture(scope="package", autouse=True)
def aged_tab(demo: Demo, browser: Browser) -> Iterator[AgedTab]:
    """A tab signed in before the package's first test, whose clock then stands still (a
    laptop that slept, a clock gone wrong): only the server knows when its access token
    expires. Its test comes last (test_tabs.py) and waits for what is left of the 60 s."""
    from tests.browser.steps import Traffic, signed_up

    context = browser.new_context()
    context.clock.install()
    traffic = Traffic.of(context)
    page, email = signed_up(context, demo, "sleeper")
    page.clock.pause_at(time.time() + 1)
    try:
        yield AgedTab(page, email, traffic, time.monotonic())
    finally:
        context.close()
