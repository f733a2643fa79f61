"""A passkey-first account on the demo in real Chromium, with the DevTools Protocol's virtual
authenticator: sign up with a passkey and no password, sign out, sign in with the passkey
alone, set a password (the step-up dialog would take the passkey; a fresh passkey sign-in
is recent and two-factor, so it is not asked), and sign in with that password."""

from __future__ import annotations

from typing import TYPE_CHECKING

from tests.browser.conftest import Demo
from tests.browser.factors import VirtualAuthenticator
from tests.browser.steps import (
    Traffic,
    expect,
    expect_no_token_at_rest,
    expect_signed_in,
    expect_signed_out,
    goto_demo,
    log_in,
    new_email,
    status,
)

if TYPE_CHECKING:
    from playwright.sync_api import BrowserContext

NEW_PASSWORD = "a password set later"


def test_sign_up_with_a_passkey_then_set_a_password_and_sign_in_with_either(
    demo: Demo, context: BrowserContext
):
    traffic = Traffic.of(context)
    page = context.new_page()
    authenticator = VirtualAuthenticator.attach(context, page)
    goto_demo(page, demo.passkey_url)
    email = new_email("pia")

    form = page.locator("#register-form")
    form.get_by_label("Name").fill("Pia")
    form.get_by_label("Email").fill(email)
    form.get_by_role("button", name="Sign up with a passkey").click()
    expect_signed_in(page, email)
    expect(page.locator("#notice")).to_contain_text("Your passkey signs you in")
    expect(page.locator("#profile-verified")).to_have_text("not yet")
    expect(page.locator("#passkeys tbody tr")).to_have_count(1)
    expect(page.locator("#password-card")).to_be_visible()
    [credential] = authenticator.credentials()
    assert credential["isResidentCredential"] is True
    assert credential["userName"] == email
    assert demo.mail_link(email, "Confirm")  # the verification mail went out
    demo.shot(page, "signed-up-with-a-passkey")

    page.locator("#logout").click()
    expect_signed_out(page, "You signed out.")
    page.get_by_role("button", name="Sign in with a passkey").click()
    expect_signed_in(page, email)

    card = page.locator("#password-card")
    card.get_by_label("New password").fill(NEW_PASSWORD)
    card.get_by_role("button", name="Set a password").click()
    expect(page.locator("#notice")).to_contain_text("Your password is set")
    expect(card).to_be_hidden()

    page.locator("#logout").click()
    expect_signed_out(page)
    log_in(page, email, NEW_PASSWORD)
    expect_signed_in(page, email)
    assert [status(r) for r in traffic.to("/auth/passkeys/signup/verify")] == [201]
    assert [status(r) for r in traffic.to("/auth/password/set")] == [204]
    assert [status(r) for r in traffic.to("/auth/login")] == [200]
    expect_no_token_at_rest(page, traffic)
