"""The account is its user's (API.md): the security activity, the export and the erasure,
over HTTP on the real adapters."""

from __future__ import annotations

import base64
import json
import re
from collections.abc import AsyncIterator, Callable
from typing import Any

import pytest
from litestar.testing import AsyncTestClient

from infrastructure.config import Settings
from interfaces.bootstrap.backends import open_database
from tests.fakes.authenticator import SoftAuthenticator
from tests.fakes.clock import FakeClock
from tests.http.admin_helpers import an_admin
from tests.http.helpers import (
    PASSWORD,
    Device,
    assert_access_rejected,
    assert_problem,
    bearer,
    refresh_with,
    sign_in,
    sign_up,
)
from tests.http.mfa_helpers import enable_totp, reauthenticate_with_passkey, rows
from tests.servers.smtp import SmtpSink, link_token, text_of

Client = AsyncTestClient[Any]
BASE_URL = "https://testserver.local"
ADA = "ada@example.test"
CHROME_ON_LINUX = (
    "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko)"
    " Chrome/126.0.0.0 Safari/537.36"
)


@pytest.fixture
async def app(make_client: Callable[..., Client], smtp: SmtpSink) -> AsyncIterator[Client]:
    async with make_client(smtp_url=smtp.url, outbox_poll_interval=0.02) as client:
        yield client


async def activity(client: Client, device: Device, **query: Any) -> Any:
    return await client.get("/auth/activity", params=query, headers=device.headers)


# --- Activity ----------------------------------------------------------------------------------


async def test_the_activity_shows_sign_ins_with_method_address_and_device(client: Client):
    await sign_up(client, ADA)
    with_chrome = {"User-Agent": CHROME_ON_LINUX}
    device = await sign_in(client, ADA, headers=with_chrome)
    wrong = await client.post("/auth/login", json={"email": ADA, "password": "not it"})
    assert wrong.status_code == 401

    response = await activity(client, device)

    assert response.status_code == 200, response.text
    assert response.headers["cache-control"] == "no-store"
    entries = response.json()["activity"]
    assert [e["type"] for e in entries] == [
        "login_failed",
        "session_started",
        "session_started",
        "user_registered",  # written with the account, before its first session
    ]
    failed, started = entries[0], entries[1]
    assert failed["reason"] == "wrong_password"
    assert started["method"] == ["pwd"]
    assert started["device"] == "Chrome on Linux"
    assert started["user_agent"] == CHROME_ON_LINUX
    assert started["by_admin"] is False
    assert set(started) == {
        "type", "at", "ip_address", "user_agent", "device", "method", "reason", "by_admin",
        "session_id",
    }  # fmt: skip


async def test_the_activity_is_the_callers_own_and_pages_with_an_opaque_cursor(client: Client):
    ada = await sign_up(client, ADA)
    for _ in range(3):
        await sign_in(client, ADA)
    bob = await sign_up(client, "bob@example.test")

    first = (await activity(client, ada, limit=2)).json()
    second = (await activity(client, ada, limit=2, cursor=first["next_cursor"])).json()
    third = (await activity(client, ada, limit=2, cursor=second["next_cursor"])).json()
    bobs = (await activity(client, bob)).json()

    assert len(first["activity"]) == len(second["activity"]) == 2
    assert [e["type"] for e in third["activity"]] == ["user_registered"]  # the oldest
    assert third["next_cursor"] is None
    assert "after" not in first["next_cursor"]  # opaque: the client builds none of its own
    assert [e["type"] for e in bobs["activity"]] == ["session_started", "user_registered"]


async def test_refresh_token_reuse_and_the_end_of_a_session_show(client: Client, clock: FakeClock):
    device = await sign_up(client, ADA)
    other = await sign_in(client, ADA)
    assert (await refresh_with(client, other.refresh_token)).status_code == 200
    clock.advance(60)  # past the grace: the old token is a stolen one now
    assert (await refresh_with(client, other.refresh_token)).status_code == 401

    types = [e["type"] for e in (await activity(client, device)).json()["activity"]]

    # The end is written with the session's row, the reuse (no change of its own) just
    # before the response: the same moment, in either order.
    assert set(types[:2]) == {"session_revoked", "refresh_token_reused"}


@pytest.mark.parametrize(
    "query",
    [{"limit": 0}, {"limit": 101}, {"limit": "ten"}, {"cursor": "bm90LW91cnM"}, {"cursor": "%%"}],
)
async def test_a_bad_limit_or_cursor_is_a_422_problem(client: Client, query: dict[str, Any]):
    device = await sign_up(client, ADA)

    body = assert_problem(await activity(client, device, **query), 422, "validation_failed")
    assert "body" not in body["detail"]  # a GET has none: the query is what was wrong


async def test_the_activity_needs_a_token(client: Client):
    assert_problem(await client.get("/auth/activity"), 401, "invalid_token")


# --- Export ------------------------------------------------------------------------------------


def encodings(secret: str | bytes) -> set[str]:
    """The ways a secret could show up in a JSON document."""
    if isinstance(secret, str):
        return {secret}
    return {
        secret.hex(),
        base64.b64encode(secret).decode(),
        base64.urlsafe_b64encode(secret).decode().rstrip("="),
        base64.b64encode(secret).decode().rstrip("="),
    }


async def test_the_export_is_a_json_download_of_the_account_with_nothing_secret(
    app: Client, smtp: SmtpSink, clock: FakeClock, settings: Settings
):
    device = await sign_up(app, ADA, verified=True)
    authenticator = SoftAuthenticator(BASE_URL)
    options = await app.post("/auth/passkeys/register/options", headers=device.headers)
    added = await app.post(
        "/auth/passkeys/register/verify",
        json={"credential": authenticator.create(options.json()), "name": "My laptop"},
        headers=device.headers,
    )
    assert added.status_code == 201, added.text
    device = await reauthenticate_with_passkey(app, device, authenticator)
    with_app = await enable_totp(app, device, clock)
    assert (await app.post("/auth/password/forgot", json={"email": ADA})).status_code == 202
    reset_mail = await smtp.wait_for_subject(ADA, "Reset", 1)
    verify_mail = await smtp.wait_for_subject(ADA, "Confirm", 1)
    [user] = await rows(settings, "users")
    [passkey] = await rows(settings, "passkeys")
    [totp] = await rows(settings, "totp_credentials")
    digests = [row["digest"] for row in await rows(settings, "recovery_codes")]
    secrets: list[str | bytes] = [
        PASSWORD,
        user["password_hash"],
        with_app.app.secret,
        totp["secret_sealed"],
        *with_app.recovery_codes,
        *digests,
        with_app.device.refresh_token,
        with_app.device.access_token,
        bytes(passkey["credential_id"]),
        bytes(passkey["public_key"]),
        link_token(reset_mail),
        link_token(verify_mail),
    ]

    response = await app.get("/auth/account/export", headers=with_app.device.headers)

    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("application/json")
    disposition = response.headers["content-disposition"]
    assert disposition.startswith("attachment; filename=")
    assert disposition.endswith('.json"')
    document = response.text
    for secret in secrets:
        for shown in encodings(secret):
            assert shown not in document, f"a secret is in the export: {shown[:12]}…"
    exported = json.loads(document)
    assert exported["profile"]["email"] == ADA
    assert exported["profile"]["authenticator_app_since"] is not None
    assert [p["name"] for p in exported["passkeys"]] == ["My laptop"]
    assert len(exported["sessions"]) == 1
    types = {e["type"] for e in exported["activity"]}
    assert {"session_started", "passkey_added", "mfa_enabled", "account_exported"} <= types
    subjects = [m["subject"] for m in exported["mails"]]
    assert any(s.startswith("Reset") for s in subjects)
    assert set(exported["mails"][0]) == {"subject", "queued_at", "sent_at"}
    assert text_of(reset_mail)  # the mail itself had its link: only the export leaves it out


async def test_the_export_holds_no_sign_in_code_for_a_squatter_to_prove_the_mailbox_with(
    make_client: Callable[..., Client], smtp: SmtpSink
):
    """Someone registers an address that is not theirs and asks for a sign-in code from their
    own browser: the code goes to the mailbox only. Were it in their export (a mail's
    subject), they would sign in with it and the address would count as proven theirs."""
    async with make_client(smtp_url=smtp.url, outbox_poll_interval=0.02, email_signin=True) as app:
        squatter = await sign_up(app, ADA)
        asked = await app.post("/auth/email/signin/request", json={"email": ADA})
        assert asked.status_code == 202, asked.text
        mail = await smtp.wait_for_subject(ADA, "Your authgate sign-in code", 1)
        code = re.search(r"Your code is (\d{6})\.", text_of(mail))
        assert code is not None

        response = await app.get("/auth/account/export", headers=squatter.headers)

        assert response.status_code == 200, response.text
        assert code.group(1) not in response.text
        assert code.group(1) not in str(mail["Subject"])
        assert "Your authgate sign-in code" in [m["subject"] for m in response.json()["mails"]]


async def test_the_export_lists_no_mail_sent_before_the_account_was_made(
    app: Client, smtp: SmtpSink, clock: FakeClock
):
    """The address's previous account was erased: its last mail is not the business of
    whoever registers the address next (who may not own the mailbox)."""
    previous = await sign_up(app, ADA)
    assert (await app.delete("/auth/account", headers=previous.headers)).status_code == 204
    await smtp.wait_for_subject(ADA, "Your account was deleted", 1)
    clock.advance(seconds=1)
    squatter = await sign_up(app, ADA)

    response = await app.get("/auth/account/export", headers=squatter.headers)

    subjects = [m["subject"] for m in response.json()["mails"]]
    assert subjects == ["Confirm your email address for authgate"]


# --- Delete ------------------------------------------------------------------------------------


async def tables(settings: Settings) -> dict[str, list[dict[str, Any]]]:
    """Every row of every table of the database."""
    database = open_database(settings)
    try:
        async with database.transaction(write=False) as tx:
            if database.dialect == "postgres":
                names = await tx.fetchall(
                    "SELECT tablename AS name FROM pg_tables WHERE schemaname = current_schema()"
                )
            else:
                names = await tx.fetchall(
                    "SELECT name FROM sqlite_master WHERE type = 'table'"
                    " AND name NOT LIKE 'sqlite_%'"
                )
            found = {
                row["name"]: [dict(r) for r in await tx.fetchall(f"SELECT * FROM {row['name']}")]
                for row in names
            }
    finally:
        await database.close()
    return found


def mentions(table: str, row: dict[str, Any], user_id: int, email: str) -> bool:
    for column, value in row.items():
        names_user = column == "user_id" or (table == "users" and column == "id")
        if names_user and value is not None and int(value) == user_id:
            return True
        if isinstance(value, str) and email in value:
            return True
    return False


@pytest.mark.every_deployment
async def test_delete_erases_every_row_of_the_user_and_ends_its_tokens_at_once(
    app: Client, smtp: SmtpSink, settings: Settings, clock: FakeClock
):
    device = await sign_up(app, ADA, verified=True)
    user_id = device.body["user"]["id"]
    with_app = await enable_totp(app, device, clock)
    await smtp.wait_for_subject(ADA, "An authenticator app", 1)
    keeper = await sign_up(app, "bob@example.test")

    response = await app.delete("/auth/account", headers=with_app.device.headers)

    assert response.status_code == 204, response.text
    await assert_access_rejected(app, with_app.device.access_token)
    assert (await refresh_with(app, with_app.device.refresh_token)).status_code == 401
    left = {
        table: [row for row in found if mentions(table, row, user_id, ADA)]
        for table, found in (await tables(settings)).items()
    }
    left = {table: found for table, found in left.items() if found}
    # Only the last mail, queued in the erasure: it goes out though the account is gone.
    # (The ended sessions' Shared Signals events stay for an access token's lifetime, so that
    # resource servers refuse its tokens: they name a random session id and no user.)
    assert list(left) == ["outbox"], left
    [farewell] = left["outbox"]
    assert farewell["subject"].startswith("Your account was deleted")
    assert "deleted" in text_of(await smtp.wait_for_subject(ADA, "Your account was deleted", 1))
    assert (await app.get("/auth/me", headers=keeper.headers)).status_code == 200
    again = await app.post("/auth/register", json={"email": ADA, "password": PASSWORD})
    assert again.status_code == 201, again.text


async def test_delete_announces_user_deleted_to_the_webhooks(client: Client, settings: Settings):
    admin = await an_admin(client, settings)
    added = await client.post(
        "/admin/webhooks",
        json={"url": "https://hooks.example.test/in", "events": ["user.deleted"]},
        headers=admin.headers,
    )
    device = await sign_up(client, ADA)

    assert (await client.delete("/auth/account", headers=device.headers)).status_code == 204

    deliveries = await client.get(
        f"/admin/webhooks/{added.json()['id']}/deliveries", headers=admin.headers
    )
    [delivery] = deliveries.json()["deliveries"]
    assert delivery["type"] == "user.deleted"


async def test_the_last_admin_cannot_delete_its_own_account(client: Client, settings: Settings):
    admin = await an_admin(client, settings)

    assert_problem(await client.delete("/auth/account", headers=admin.headers), 409, "last_admin")
    assert (await client.get("/auth/me", headers=bearer(admin.access_token))).status_code == 200


async def test_what_an_administrator_did_through_the_cli_shows_as_theirs(
    client: Client, settings: Settings
):
    admin = await an_admin(client, settings)  # `authgate users set-role`, as the CLI does

    entries = (await activity(client, admin)).json()["activity"]

    [role] = [e for e in entries if e["type"] == "role_set_admin"]
    assert role["by_admin"] is True
    assert role["user_agent"] == "authgate-cli"
