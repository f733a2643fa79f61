"""Step-up on the demo in real Chromium: an account with a passkey, signed in with its
password (one factor), sets up an authenticator app; the service asks for a second factor
(401 insufficient_user_authentication), the client's hook opens "Confirm it's you", and the
passkey the virtual authenticator holds proves it. The session stays; the setup goes on."""

from __future__ import annotations

from typing import TYPE_CHECKING

from tests.browser.conftest import Demo
from tests.browser.factors import VirtualAuthenticator
from tests.browser.steps import (
    PASSWORD,
    Traffic,
    expect,
    expect_signed_in,
    goto_demo,
    new_email,
    register,
    status,
)
from tests.browser.test_passkeys import with_a_passkey

if TYPE_CHECKING:
    from playwright.sync_api import BrowserContext


def test_confirm_its_you_with_a_passkey_lets_a_one_factor_session_add_the_app(
    demo: Demo, context: BrowserContext
):
    traffic = Traffic.of(context)
    page, email, _ = with_a_passkey(demo, context, "stepper")
    dialog = page.locator("#step-up")
    start = page.get_by_role("button", name="Set up an authenticator app")

    # Cancelled: nothing happens but a notice.
    start.click()
    expect(dialog).to_be_visible()
    expect(dialog).to_contain_text("This needs your second factor")
    demo.shot(page, "confirm-its-you")
    dialog.get_by_role("button", name="Cancel").click()
    expect(dialog).to_be_hidden()
    expect(page.locator("#notice")).to_contain_text("[insufficient_user_authentication]")
    expect(page.locator("#totp-setup")).to_be_hidden()

    # The password alone is one factor: proven again, but still not enough.
    start.click()
    dialog.get_by_label("Password").fill(PASSWORD)
    dialog.get_by_role("button", name="Confirm").click()
    expect(page.locator("#notice")).to_contain_text("[insufficient_user_authentication]")

    # The passkey is two: the setup goes on in the same session.
    start.click()
    dialog.get_by_role("button", name="Use a passkey").click()
    expect(page.locator("#totp-setup")).to_be_visible()
    expect_signed_in(page, email)
    assert [status(r) for r in traffic.to("/auth/reauthenticate")] == [200, 200]
    assert [status(r) for r in traffic.to("/auth/mfa/totp/setup")] == [401, 401, 401, 401, 200]
    assert traffic.to("/auth/login") == []  # no new sign-in


def test_a_sign_up_with_someone_elses_address_cannot_plant_a_passkey(
    demo: Demo, context: BrowserContext
):
    """The review's attack in a real browser: an intruder signs up with the owner's address
    (unverified) and tries to add a passkey that would outlive the owner's password reset.
    Refused before the browser makes one; after the owner's reset the intruder has nothing."""
    page = context.new_page()
    authenticator = VirtualAuthenticator.attach(context, page)
    goto_demo(page, demo.passkey_url)
    email = new_email("owner")
    register(page, email)  # the intruder, who does not own the mailbox

    add = page.locator("#passkey-add-form")
    add.get_by_label("Name").fill("Intruder's key")
    add.get_by_role("button", name="Add a passkey").click()

    expect(page.locator("#notice")).to_contain_text("[email_not_verified]")
    assert authenticator.credentials() == []
    page.locator("#logout").click()
    page.get_by_role("button", name="Sign in with a passkey").click()
    expect(page.locator("#notice")).to_contain_text("NotAllowedError")  # nothing to offer
