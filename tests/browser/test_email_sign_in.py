"""Sign in without a password in real Chromium: "Email me a code" on the demo's login, the
code read from the SMTP server the tests run; the mailed link on another browser; and the
new-device notice's "this wasn't me" page; the page of a link mailed to a new address."""

from __future__ import annotations

import re
import time
from typing import TYPE_CHECKING

import httpx

from tests.browser.conftest import Demo
from tests.browser.steps import (
    call_me,
    expect,
    expect_signed_in,
    expect_signed_out,
    goto_demo,
    open_demo,
    signed_up,
)
from tests.servers.smtp import text_of

if TYPE_CHECKING:
    from playwright.sync_api import Browser, BrowserContext, Page

SIGN_IN_MAIL = "Your authgate sign-in code"


def mailed_code(demo: Demo, email: str, count: int = 1) -> str:
    deadline = time.monotonic() + 10
    while len(found := demo.smtp.about(email, SIGN_IN_MAIL)) < count:
        assert time.monotonic() < deadline, f"no sign-in mail to {email}"
        time.sleep(0.05)
    code = re.search(r"Your code is (\d{6})\.", text_of(found[count - 1]))
    assert code is not None
    return code.group(1)


def ask_for_a_code(page: Page, email: str) -> None:
    page.get_by_text("Email me a code").first.click()  # the <details> summary
    form = page.locator("#email-code-request-form")
    form.get_by_label("Email").fill(email)
    form.get_by_role("button", name="Email me a code").click()
    expect(page.locator("#notice")).to_contain_text(f"If {email} has an account")


def test_email_me_a_code_signs_this_browser_in(
    demo: Demo, context: BrowserContext, browser: Browser
) -> None:
    _, email = signed_up(context, demo, "ada")
    elsewhere = browser.new_context()
    try:
        page = open_demo(elsewhere, demo)
        expect_signed_out(page)
        ask_for_a_code(page, email)
        page.locator("#email-code-form").get_by_label("The 6-digit code").fill(
            mailed_code(demo, email)
        )
        page.locator("#email-code-form").get_by_role("button", name="Sign in").click()
        expect_signed_in(page, email)
        expect(page.locator("#profile-verified")).to_have_text("yes")  # the mail proved it
        demo.shot(page, "signed-in-with-an-email-code")
    finally:
        elsewhere.close()


def test_the_mailed_link_signs_in_another_browser_and_the_notice_can_secure_the_account(
    demo: Demo, context: BrowserContext, browser: Browser
) -> None:
    first, email = signed_up(context, demo, "grace")
    phone = browser.new_context()
    try:
        ask_for_a_code(open_demo(phone, demo), email)  # asked on a laptop, say; opened here
        link = demo.mail_link(email, SIGN_IN_MAIL)
        assert link.startswith(f"{demo.url}/email-sign-in?token=")
        page = phone.new_page()
        page.goto(link)
        assert "token" not in page.url
        page.get_by_role("button", name="Sign in").click()
        expect(page.locator("#notice")).to_contain_text(f"Signed in as {email}")
        goto_demo(page, demo.url)
        expect_signed_in(page, email)

        # A device the account had not used: its owner is told, with a way out.
        secure = demo.mail_link(email, "New sign-in to your authgate account")
        assert secure.startswith(f"{demo.url}/secure-account?token=")
        page.goto(secure)
        page.get_by_role("button", name="Secure my account").click()
        expect(page.locator("#notice")).to_contain_text("signed out everywhere")
        demo.shot(page, "account-secured")
    finally:
        phone.close()

    # The first browser's session ended too.
    call_me(first)
    expect_signed_out(first)


def test_the_link_mailed_to_a_new_address_changes_it_on_the_demo_page(
    demo: Demo, context: BrowserContext
) -> None:
    # Signed up and asked through the API (a recent sign-in: step-up is met); the demo's
    # page opens the link mailed to the new address, as a user's mail client would.
    old, new = "lin@example.test", "lin.new@example.test"
    signed = httpx.post(
        f"{demo.server.url}/auth/register",
        json={"email": old, "password": "correct horse battery"},
    ).json()
    bearer = {"Authorization": f"Bearer {signed['access_token']}"}
    verify = demo.mail_link(old, "Confirm your email address").split("token=")[1]
    verified = httpx.post(
        f"{demo.server.url}/auth/email/verify", json={"token": verify}, headers=bearer
    )
    assert verified.status_code == 200, verified.text  # a verified old address is told
    asked = httpx.post(
        f"{demo.server.url}/auth/email/change/request", json={"email": new}, headers=bearer
    )
    assert asked.status_code == 202, asked.text
    link = demo.mail_link(new, "Confirm your new email address")
    assert link.startswith(f"{demo.url}/change-email?token=")

    page = context.new_page()
    page.goto(link)

    expect(page.locator("#notice")).to_contain_text(f"The account's address is now {new}.")
    assert "token" not in page.url
    assert demo.mail_link(old, "Your email address was changed").startswith(
        f"{demo.url}/secure-account?token="
    )
