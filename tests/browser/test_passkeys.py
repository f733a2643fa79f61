"""Passkeys on the demo in real Chromium, with the DevTools Protocol's virtual authenticator:
add one, sign out, sign in with it without typing an email; remove it and it signs in no more.
And what a relying party must refuse: an assertion relayed from a page on another origin, and
one made for another RP ID, even on an origin the service lists."""

from __future__ import annotations

import base64
from pathlib import Path
from typing import TYPE_CHECKING, Any

import httpx

from tests.browser.conftest import README_MFA_SCREENSHOT, Demo
from tests.browser.factors import VirtualAuthenticator, app_from_the_key_shown
from tests.browser.steps import (
    Traffic,
    expect,
    expect_no_token_at_rest,
    expect_signed_in,
    expect_signed_out,
    goto_demo,
    log_in,
    new_email,
    register,
    verify_address,
)
from tests.e2e.conftest import free_port

if TYPE_CHECKING:
    from playwright.sync_api import BrowserContext, Page

# In a page: the service's request options, the authenticator's assertion for them made for
# another RP ID, and the service's answer to it.
SIGN_IN_FOR_RP_ID = """async (rpId) => {
  const options = await (await fetch("/auth/passkeys/login/options", { method: "POST" })).json();
  options.rpId = rpId;
  const credential = await navigator.credentials.get({
    publicKey: PublicKeyCredential.parseRequestOptionsFromJSON(options),
  });
  const answer = await fetch("/auth/passkeys/login/verify", {
    method: "POST",
    headers: { "Content-Type": "application/json" },
    body: JSON.stringify({ credential: credential.toJSON() }),
  });
  return [answer.status, (await answer.json()).code ?? null];
}"""


def with_a_passkey(demo: Demo, context: BrowserContext, who: str) -> tuple[Page, str, Any]:
    """A tab on the demo at localhost with its authenticator; an account signed up there, and
    a passkey added by clicking."""
    page = context.new_page()
    authenticator = VirtualAuthenticator.attach(context, page)
    goto_demo(page, demo.passkey_url)
    email = new_email(who)
    register(page, email)
    verify_address(page, demo, email)
    add = page.locator("#passkey-add-form")
    add.get_by_label("Name").fill("Test laptop")
    add.get_by_role("button", name="Add a passkey").click()
    expect(page.locator("#notice")).to_contain_text('Passkey "Test laptop" added')
    return page, email, authenticator


def sign_in_with_a_passkey(page: Page) -> None:
    page.get_by_role("button", name="Sign in with a passkey").click()


def test_a_passkey_added_on_the_demo_signs_in_without_an_email(demo: Demo, context: BrowserContext):
    traffic = Traffic.of(context)
    page, email, authenticator = with_a_passkey(demo, context, "pia")
    row = page.locator("#passkeys tbody tr")
    expect(row).to_have_count(1)
    expect(row.locator("td").nth(0)).to_have_text("Test laptop")
    expect(row.locator("td").nth(2)).to_have_text("never")
    [credential] = authenticator.credentials()
    assert credential["rpId"] == "localhost"
    assert credential["isResidentCredential"] is True  # discoverable: no email needed
    assert credential["userName"] == email
    demo.shot(page, "passkey-added")

    page.locator("#logout").click()
    expect_signed_out(page, "You signed out.")
    sign_in_with_a_passkey(page)
    expect_signed_in(page, email)
    expect(page.locator("#notice")).to_have_text("Signed in with a passkey.")
    expect(row.locator("td").nth(2)).not_to_have_text("never")
    assert traffic.to("/auth/login") == []  # no email, no password: nothing typed
    demo.shot(page, "signed-in-with-a-passkey")

    # With the app on too, the password step offers the passkey in place of a code.
    page.get_by_role("button", name="Set up an authenticator app").click()
    app = app_from_the_key_shown(page)
    if README_MFA_SCREENSHOT:
        page.locator("#second-factor").screenshot(path=Path(README_MFA_SCREENSHOT))
    page.locator("#totp-confirm-form").get_by_label("Code from the app").fill(app.code())
    page.get_by_role("button", name="Turn it on").click()
    expect(page.locator("#totp-state")).to_have_text("On, 10 recovery codes left.")
    page.locator("#logout").click()
    log_in(page, email)
    expect(page.locator("#mfa-form")).to_be_visible()
    page.get_by_role("button", name="Use a passkey instead").click()
    expect_signed_in(page, email)

    # Removed, it signs in no more, though the authenticator still holds it.
    row.get_by_role("button", name="Remove").click()
    expect(row).to_have_count(0)
    page.locator("#logout").click()
    expect_signed_out(page)
    sign_in_with_a_passkey(page)
    expect(page.locator("#notice")).to_contain_text("[invalid_passkey]")
    expect_signed_out(page)
    assert len(authenticator.credentials()) == 1
    expect_no_token_at_rest(page, traffic)


def test_an_assertion_relayed_from_a_page_on_another_origin_is_refused(
    demo: Demo, context: BrowserContext
):
    page, email, _ = with_a_passkey(demo, context, "phished")
    # A phishing page on the same host, another port: browsers scope passkeys by host, so it
    # may ask for the service's RP ID. Its server relays the service's options and sends the
    # assertion the victim's authenticator made back to the service, with no Origin header.
    phishing = f"http://localhost:{free_port()}"
    page.route(
        f"{phishing}/**",
        lambda route: route.fulfill(content_type="text/html", body="<title>Sign in</title>"),
    )
    page.goto(f"{phishing}/login")
    options = httpx.post(f"{demo.server.url}/auth/passkeys/login/options").json()
    credential = page.evaluate(
        """async (options) => (await navigator.credentials.get({
          publicKey: PublicKeyCredential.parseRequestOptionsFromJSON(options),
        })).toJSON()""",
        options,
    )
    client_data = base64.urlsafe_b64decode(credential["response"]["clientDataJSON"] + "==")
    assert f'"origin":"{phishing}"'.encode() in client_data  # the browser says where it was

    failures = len(demo.audit("login_failed"))
    relayed = httpx.post(
        f"{demo.server.url}/auth/passkeys/login/verify", json={"credential": credential}
    )
    assert relayed.status_code == 401
    assert relayed.json()["code"] == "invalid_passkey"
    assert "set-cookie" not in relayed.headers
    # Found, its user handle and counter right: refused by the verification, for the origin.
    assert demo.next_audit("login_failed", failures)["reason"] == "passkey_rejected"

    # On the service's own page the same passkey still signs in.
    goto_demo(page, demo.passkey_url)
    page.locator("#logout").click()
    sign_in_with_a_passkey(page)
    expect_signed_in(page, email)


def test_a_credential_for_another_rp_id_is_refused_even_on_a_listed_origin(
    demo: Demo, context: BrowserContext
):
    page, _, authenticator = with_a_passkey(demo, context, "scoped")
    [genuine] = authenticator.credentials()
    # app.localhost is a listed origin (AUTH_RP_ORIGINS), and its pages may ask for
    # credentials of their own domain. Even the registered passkey's very key, held for the
    # RP ID app.localhost, makes an assertion the service refuses: its RP ID hash is not
    # the service's (WebAuthn §7.2 step 15).
    authenticator.remove(genuine)
    authenticator.add(genuine | {"rpId": "app.localhost", "signCount": genuine["signCount"] + 9})
    goto_demo(page, demo.subdomain_url)
    failures = len(demo.audit("login_failed"))
    assert page.evaluate(SIGN_IN_FOR_RP_ID, "app.localhost") == [401, "invalid_passkey"]
    assert demo.next_audit("login_failed", failures)["reason"] == "passkey_rejected"

    # Nor is a passkey registered for the RP ID app.localhost: refused, nothing stored.
    subdomain = new_email("subdomain")
    register(page, subdomain)
    verify_address(page, demo, subdomain)
    added = page.evaluate(
        """async () => {
          const { AuthClient } = await import("/auth/client.js");
          const auth = new AuthClient();
          await auth.restore();
          const call = async (path, body) => {
            const init = { method: body === undefined ? "GET" : "POST" };
            if (body !== undefined) {
              init.headers = { "Content-Type": "application/json" };
              init.body = JSON.stringify(body);
            }
            return (await auth.fetch(path, init)).json();
          };
          const options = await call("/auth/passkeys/register/options", {});
          options.rp.id = location.hostname;
          const credential = await navigator.credentials.create({
            publicKey: PublicKeyCredential.parseCreationOptionsFromJSON(options),
          });
          const answer = await call("/auth/passkeys/register/verify", {
            credential: credential.toJSON(),
          });
          return [answer.code, (await call("/auth/mfa")).passkeys];
        }"""
    )
    assert added == ["invalid_passkey_registration", 0]
