"""The account is its user's, on the demo in real Chromium: the activity shows the sign-in,
"Export my data" downloads one JSON file of the account, and "Delete my account" (after a
confirm) signs the page out and frees the address to sign up again."""

from __future__ import annotations

import json
import time
from typing import TYPE_CHECKING

from tests.browser.conftest import Demo
from tests.browser.steps import expect, expect_signed_out, register, signed_up

if TYPE_CHECKING:
    from playwright.sync_api import BrowserContext, Dialog


def test_activity_export_and_delete(demo: Demo, context: BrowserContext) -> None:
    page, email = signed_up(context, demo, "owner")

    signed_in = page.locator('#activity tr[data-type="session_started"]')
    expect(signed_in).to_contain_text("Signed in with password")
    expect(signed_in).to_contain_text("Chrome on Linux")  # the device, from the user agent
    expect(page.locator('#activity tr[data-type="user_registered"]')).to_contain_text(
        "Account created"
    )

    with page.expect_download() as downloading:
        page.get_by_role("button", name="Export my data").click()
    download = downloading.value
    assert download.suggested_filename.endswith(".json")
    exported = json.loads(download.path().read_text())
    assert exported["profile"]["email"] == email
    assert "password_hash" not in json.dumps(exported)
    expect(page.locator('#activity tr[data-type="account_exported"]')).to_have_count(1)

    asked: list[str] = []

    def accept(dialog: Dialog) -> None:
        asked.append(dialog.message)
        dialog.accept()

    page.once("dialog", accept)
    page.get_by_role("button", name="Delete my account").click()
    expect_signed_out(page, "Your account is deleted")
    assert "cannot be undone" in asked[0]
    deadline = time.monotonic() + 10
    while not demo.smtp.about(email, "Your account was deleted"):  # the last mail
        assert time.monotonic() < deadline, "no mail saying the account was deleted"
        time.sleep(0.05)

    register(page, email)  # the address is free again
