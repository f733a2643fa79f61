"""The authenticator app on the demo, by clicking: turning it on from its QR code, the ten
recovery codes shown once, the code asked at sign-in, turning it off; codes that must not
work (wrong, replayed, a recovery code spent) do not."""

from __future__ import annotations

from typing import TYPE_CHECKING
from urllib.parse import parse_qs, urlsplit

from tests.browser.conftest import Demo
from tests.browser.factors import App, app_from_the_key_shown, enter_code, read_qr_code
from tests.browser.steps import (
    Traffic,
    expect,
    expect_no_token_at_rest,
    expect_signed_in,
    expect_signed_out,
    log_in,
    signed_up,
    verify_address,
)
from tests.servers.oidc import FakeProfile

if TYPE_CHECKING:
    from playwright.sync_api import BrowserContext, Page


def turn_the_app_on(page: Page, demo: Demo) -> tuple[App, list[str]]:
    expect(page.locator("#totp-state")).to_have_text("Off.")
    page.get_by_role("button", name="Set up an authenticator app").click()
    app = app_from_the_key_shown(page)

    # The QR code is drawn in the page and reads as the otpauth URI of that very key.
    uri = urlsplit(read_qr_code(page.locator("#totp-qr")))
    assert (uri.scheme, uri.netloc) == ("otpauth", "totp")
    assert parse_qs(uri.query)["secret"] == [app.secret]
    demo.shot(page, "totp-setup")

    confirm = page.locator("#totp-confirm-form")
    confirm.get_by_label("Code from the app").fill(app.code())
    confirm.get_by_role("button", name="Turn it on").click()
    codes = page.locator("#recovery-code-list li")
    expect(codes).to_have_count(10)
    expect(page.locator("#totp-state")).to_have_text("On, 10 recovery codes left.")
    expect(page.locator("#totp-setup")).to_be_hidden()
    demo.shot(page, "totp-recovery-codes")
    shown = codes.all_inner_texts()
    page.get_by_role("button", name="I have saved them").click()
    expect(page.locator("#recovery-codes")).to_be_hidden()
    return app, shown


def sign_out_and_give_the_password(page: Page, email: str) -> None:
    page.locator("#logout").click()
    expect_signed_out(page, "You signed out.")
    log_in(page, email)
    expect(page.locator("#mfa-form")).to_be_visible()
    expect(page.locator("#status")).to_have_text("Signed out")  # the password alone: no session


def test_the_app_turned_on_by_clicking_then_asked_for_at_sign_in(
    demo: Demo, context: BrowserContext
):
    traffic = Traffic.of(context)
    page, email = signed_up(context, demo, "tess")
    verify_address(page, demo, email)
    # On the issuer's address (an IP) the demo points passkeys to localhost.
    expect(page.locator("#second-factor .passkeys-elsewhere a")).to_have_text(demo.passkey_url)
    expect(page.locator("#passkey-add-form")).to_be_hidden()

    app, recovery_codes = turn_the_app_on(page, demo)

    sign_out_and_give_the_password(page, email)
    expect(page.locator("#mfa-passkey")).to_be_hidden()  # no passkey on this account
    demo.shot(page, "totp-code-asked")
    enter_code(page, app.wrong_code())
    expect(page.locator("#notice")).to_contain_text("[invalid_mfa_code]")
    expect(page.locator("#status")).to_have_text("Signed out")
    code = app.next_code()
    enter_code(page, code)  # the same mfa_token, a second try
    expect_signed_in(page, email)

    # The code just used is refused a second time (RFC 6238 §5.2), even within its window.
    sign_out_and_give_the_password(page, email)
    enter_code(page, code)
    expect(page.locator("#notice")).to_contain_text("[invalid_mfa_code]")
    expect(page.locator("#status")).to_have_text("Signed out")

    # A recovery code stands in for the app, once.
    enter_code(page, recovery_codes[0].upper())
    expect_signed_in(page, email)
    expect(page.locator("#totp-state")).to_have_text("On, 9 recovery codes left.")
    sign_out_and_give_the_password(page, email)
    enter_code(page, recovery_codes[0])
    expect(page.locator("#notice")).to_contain_text("[invalid_mfa_code]")
    page.get_by_role("button", name="Cancel").click()
    expect(page.locator("#login-form")).to_be_visible()

    # The app turned off with the password (the next code of the app would mean waiting for
    # the clock: the one this step allows is spent): the password alone signs in again.
    log_in(page, email)
    enter_code(page, recovery_codes[1])
    expect_signed_in(page, email)
    disable = page.locator("#totp-disable-form")
    disable.get_by_label("Password").fill("correct horse battery")
    disable.get_by_role("button", name="Turn the app off").click()
    expect(page.locator("#totp-state")).to_have_text("Off.")
    expect(page.locator("#recovery-codes")).to_be_hidden()
    page.locator("#logout").click()
    log_in(page, email)
    expect_signed_in(page, email)
    expect_no_token_at_rest(page, traffic)


def test_a_provider_sign_in_into_an_account_with_the_app_asks_for_its_code(
    demo: Demo, context: BrowserContext
):
    traffic = Traffic.of(context)
    page, email = signed_up(context, demo, "gwen")
    verify_address(page, demo, email)
    app, _ = turn_the_app_on(page, demo)
    page.locator("#logout").click()
    expect_signed_out(page, "You signed out.")
    demo.google.profile = FakeProfile(sub=email, email=email, name="Gwen")

    page.get_by_role("button", name="Sign in with Google").click()

    # Back on the demo with ?mfa=required, which it takes out of the address bar; no session
    # until the code: the token waits in a cookie only the second step receives.
    expect(page.locator("#mfa-form")).to_be_visible()
    expect(page.locator("#notice")).to_contain_text("Your provider vouched for you.")
    expect(page.locator("#status")).to_have_text("Signed out")
    assert "mfa=required" not in page.url
    enter_code(page, app.next_code())
    expect_signed_in(page, email)
    expect_no_token_at_rest(page, traffic)
