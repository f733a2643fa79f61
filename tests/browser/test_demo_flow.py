"""The demo in real Chromium, by clicking: sign-up, the mailed links, devices, signing out,
and Google sign-in against the fake provider."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

from tests.browser.conftest import PASSWORD, README_SCREENSHOT, Demo
from tests.browser.steps import (
    Traffic,
    call_me,
    expect,
    expect_no_token_at_rest,
    expect_signed_in,
    expect_signed_out,
    log_in,
    new_email,
    open_demo,
    register,
    session_rows,
    signed_up,
)
from tests.servers.oidc import FakeProfile

if TYPE_CHECKING:
    from playwright.sync_api import Browser, BrowserContext


def test_the_whole_flow_by_clicking(demo: Demo, browser: Browser, context: BrowserContext):
    traffic = Traffic.of(context)
    page = open_demo(context, demo)
    expect_signed_out(page)
    email = new_email("ada")

    register(page, email, name="Ada Lovelace")
    expect(page.locator("#profile-verified")).to_have_text("not yet")
    expect(page.locator("#notice")).to_contain_text(f"A link to verify {email} is on its way")

    # The mailed link opens the demo's page, which verifies the address.
    link = demo.mail_link(email, "Confirm your email address")
    assert link.startswith(f"{demo.url}/verify-email?token=")
    page.goto(link)
    expect(page.locator("#notice")).to_have_text(f"{email} is verified. Thank you!")
    assert "token" not in page.url  # taken out of the address bar at once

    # Back on the demo the HttpOnly cookie restores the session: no new sign-in.
    page.goto(demo.url)
    expect_signed_in(page, email)
    expect(page.locator("#profile-verified")).to_have_text("yes")
    expect(page.locator("#profile-name")).to_have_text("Ada Lovelace")

    # A second device signs in; the first sees it in its device list and revokes it.
    laptop = browser.new_context()
    try:
        other = open_demo(laptop, demo)
        log_in(other, email)
        expect_signed_in(other, email)
        call_me(page)
        expect(page.locator("#sessions tbody tr")).to_have_count(2)
        expect(page.locator("#sessions tr.current")).to_have_count(1)
        shot = demo.shot(page, "signed-in-two-devices")
        if README_SCREENSHOT:
            shutil.copyfile(shot, Path(README_SCREENSHOT))

        page.locator("#sessions tbody tr:not(.current)").get_by_role("button").click()
        expect(page.locator("#sessions tbody tr")).to_have_count(1)
        call_me(other)
        expect_signed_out(other, "Your session ended")
    finally:
        laptop.close()

    # Signing out everywhere ends this session too.
    page.locator("#logout-everywhere").click()
    expect_signed_out(page, "You signed out everywhere.")
    demo.shot(page, "signed-out-everywhere")
    page.reload()
    expect_signed_out(page)
    expect_no_token_at_rest(page, traffic)
    assert session_rows(page) == 0 or not page.locator("#signed-in").is_visible()


def test_a_wrong_password_is_told_and_nothing_changes(demo: Demo, context: BrowserContext):
    page = open_demo(context, demo)
    log_in(page, new_email("nobody"), PASSWORD)
    expect(page.locator("#notice")).to_contain_text("[invalid_credentials]")
    expect_signed_out(page)


def test_a_forgotten_password_is_reset_through_the_mailed_link(
    demo: Demo, browser: Browser, context: BrowserContext
):
    page, email = signed_up(context, demo, "forgetful")
    page.locator("#logout").click()
    expect_signed_out(page, "You signed out.")

    page.get_by_text("Forgot your password?").click()
    forgot = page.locator("#forgot-form")
    forgot.get_by_label("Email").fill(email)
    forgot.get_by_role("button").click()
    expect(page.locator("#notice")).to_have_text(
        f"If {email} has an account, a reset link is on its way."
    )

    link = demo.mail_link(email, "Reset your")
    assert link.startswith(f"{demo.url}/reset-password?token=")
    page.goto(link)
    assert "token" not in page.url
    page.get_by_label("New password").fill("a brand new passphrase")
    page.get_by_role("button", name="Set the password").click()
    expect(page.locator("#notice")).to_contain_text("Your password is set")
    demo.shot(page, "password-reset")

    # The link is spent; the old password is refused, the new one signs in.
    page.goto(link)
    page.get_by_label("New password").fill("yet another passphrase")
    page.get_by_role("button", name="Set the password").click()
    expect(page.locator("#notice")).to_contain_text("[invalid_reset_token]")
    page.goto(demo.url)
    log_in(page, email, PASSWORD)
    expect(page.locator("#notice")).to_contain_text("[invalid_credentials]")
    log_in(page, email, "a brand new passphrase")
    expect_signed_in(page, email)


def test_a_reset_page_without_a_token_says_so(demo: Demo, context: BrowserContext):
    page = context.new_page()
    page.goto(f"{demo.url}/reset-password")
    expect(page.locator("#notice")).to_contain_text("carries no token")
    expect(page.locator("#reset-form")).to_be_hidden()
    page.goto(f"{demo.url}/verify-email?token=not-a-real-token")
    expect(page.locator("#notice")).to_contain_text("[invalid_verification_token]")


def test_sign_in_with_google_against_the_fake_provider(demo: Demo, context: BrowserContext):
    email = new_email("grace")
    demo.google.profile = FakeProfile(sub=email, email=email, name="Grace Hopper")
    page = open_demo(context, demo)
    traffic = Traffic.of(context)

    page.get_by_role("button", name="Sign in with Google").click()
    # To the provider and back: the callback sets the cookie and sends the browser to the
    # demo, which restores the session from it. No token travels in any URL.
    page.wait_for_url(f"{demo.url}/")
    expect_signed_in(page, email)
    expect(page.locator("#profile-name")).to_have_text("Grace Hopper")
    expect(page.locator("#profile-verified")).to_have_text("yes")
    demo.shot(page, "signed-in-with-google")
    assert [urlsplit(u).path for u in traffic.urls()][:3] == [
        "/auth/google/start",
        "/authorize",
        "/auth/google/callback",
    ]
    assert demo.google.authorizations[-1]["code_challenge_method"] == "S256"
    expect_no_token_at_rest(page, traffic)
