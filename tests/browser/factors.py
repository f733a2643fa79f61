"""Second factors as a person holds them: an authenticator app (pyotp, reading the code the
QR code or the typed key gives it), and a passkey on the Chrome DevTools Protocol's virtual
authenticator, which answers WebAuthn prompts as a phone or a laptop's platform authenticator
would (resident keys, user verification always given)."""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import pyotp
import zxingcpp

from tests.browser.steps import expect

if TYPE_CHECKING:
    from playwright.sync_api import BrowserContext, CDPSession, Locator, Page

STEP = 30
AUTHENTICATOR = {
    "protocol": "ctap2",
    "transport": "internal",
    "hasResidentKey": True,
    "hasUserVerification": True,
    "isUserVerified": True,
}


@dataclass
class App:
    """An authenticator app holding one secret, on the real clock the server reads too."""

    secret: str

    def code(self, steps: int = 0) -> str:
        """The code shown now, or ``steps`` time steps away."""
        return pyotp.TOTP(self.secret).at(time.time() + STEP * steps)

    def next_code(self) -> str:
        """The code of the next step. Each step is accepted once and the server forgives one
        step of clock skew, so this is accepted now although the current step was spent."""
        return self.code(1)

    def wrong_code(self) -> str:
        near = {self.code(steps) for steps in range(-2, 3)}
        return next(code for code in ("000000", "111111", "222222", "333333") if code not in near)


def app_from_the_key_shown(page: Page) -> App:
    """The app set up by typing in the key the demo shows beside the QR code."""
    key = page.locator("#totp-secret")
    expect(key).not_to_be_empty()
    return App(key.inner_text().replace(" ", ""))


def read_qr_code(canvas: Locator) -> str:
    """What a phone scanning the canvas reads: the pixels decoded by ZXing."""
    pixels = canvas.evaluate(
        """(canvas) => {
          const { width, height, data } = canvas.getContext("2d")
            .getImageData(0, 0, canvas.width, canvas.height);
          const grey = [];
          for (let i = 0; i < data.length; i += 4) grey.push(data[i]);
          return { width, height, grey };
        }"""
    )
    shape = (pixels["height"], pixels["width"])
    image = memoryview(bytes(pixels["grey"])).cast("B", shape)
    found = zxingcpp.read_barcodes(
        image, formats=zxingcpp.BarcodeFormats(zxingcpp.BarcodeFormat.QRCode)
    )
    assert len(found) == 1, "no QR code on the canvas"
    return found[0].text


def enter_code(page: Page, code: str) -> None:
    """The second step of the demo's sign-in: a code of the app, or a recovery code."""
    form = page.locator("#mfa-form")
    expect(form).to_be_visible()
    form.get_by_label("Code from your authenticator app").fill(code)
    form.get_by_role("button", name="Verify").click()


@dataclass
class VirtualAuthenticator:
    """One tab's authenticator, through the DevTools Protocol's WebAuthn domain."""

    cdp: CDPSession
    authenticator_id: str

    @classmethod
    def attach(cls, context: BrowserContext, page: Page) -> VirtualAuthenticator:
        cdp = context.new_cdp_session(page)
        cdp.send("WebAuthn.enable")
        added = cdp.send("WebAuthn.addVirtualAuthenticator", {"options": AUTHENTICATOR})
        return cls(cdp, added["authenticatorId"])

    def credentials(self) -> list[dict[str, Any]]:
        found = self.cdp.send("WebAuthn.getCredentials", {"authenticatorId": self.authenticator_id})
        credentials: list[dict[str, Any]] = found["credentials"]
        return credentials

    def remove(self, credential: dict[str, Any]) -> None:
        self.cdp.send(
            "WebAuthn.removeCredential",
            {"authenticatorId": self.authenticator_id, "credentialId": credential["credentialId"]},
        )

    def add(self, credential: dict[str, Any]) -> None:
        self.cdp.send(
            "WebAuthn.addCredential",
            {"authenticatorId": self.authenticator_id, "credential": credential},
        )
