"""The admin's webhook API over HTTP: the secret shown once, bad input refused as problem
details, and an event of a sign-up listed among the endpoint's deliveries and replayable."""

from __future__ import annotations

import logging
from typing import Any

import pytest

from infrastructure.config import Settings
from tests.http.admin_helpers import an_admin
from tests.http.helpers import Device, assert_problem, sign_up

URL = "https://hooks.example.test/authgate"


async def a_sign_up_delivered(client: Any, admin: Device, email: str) -> tuple[str, dict[str, Any]]:
    """An endpoint for user.created (its path), and the delivery of ``email``'s sign-up."""
    added = await client.post(
        "/admin/webhooks", json={"url": URL, "events": ["user.created"]}, headers=admin.headers
    )
    webhook = f"/admin/webhooks/{added.json()['id']}"
    await sign_up(client, email)
    listed = await client.get(f"{webhook}/deliveries", headers=admin.headers)
    [delivery] = listed.json()["deliveries"]
    return webhook, delivery


async def test_an_endpoint_is_added_with_its_secret_shown_once_then_listed_without_it(
    client: Any, settings: Settings
) -> None:
    admin = await an_admin(client, settings)

    added = await client.post(
        "/admin/webhooks",
        json={"url": URL, "events": ["user.created", "session.revoked"]},
        headers=admin.headers,
    )

    assert added.status_code == 201, added.text
    assert added.json()["secret"].startswith("whsec_")
    assert added.headers["cache-control"] == "no-store"
    listed = await client.get("/admin/webhooks", headers=admin.headers)
    [webhook] = listed.json()["webhooks"]
    assert webhook == {
        "id": added.json()["id"],
        "url": URL,
        "events": ["user.created", "session.revoked"],
        "disabled": False,
        "created_at": added.json()["created_at"],
    }


async def test_bad_endpoints_are_refused_as_problem_details(
    client: Any, settings: Settings
) -> None:
    admin = await an_admin(client, settings)

    for body in (
        {"url": "http://127.0.0.1:9000/hooks", "events": ["user.created"]},
        {"url": "https://user:pw@hooks.example.test/", "events": ["user.created"]},
        {"url": URL, "events": ["user.exploded"]},
        {"url": URL, "events": []},
        # What no delivery could resolve or send: a name IDNA cannot encode, a control
        # character httpx refuses.
        {"url": "https://" + "\u00e4" * 70 + ".example/hook", "events": ["user.created"]},
        {"url": URL + "\x01", "events": ["user.created"]},
        {"url": "https://hooks.example.test/a b", "events": ["user.created"]},
    ):
        response = await client.post("/admin/webhooks", json=body, headers=admin.headers)
        assert_problem(response, 422, "validation_failed")
    response = await client.post("/admin/webhooks", json={"url": 3}, headers=admin.headers)
    assert 400 <= response.status_code < 500
    for missing in ("/admin/webhooks/99", "/admin/webhooks/0"):
        assert_problem(
            await client.delete(missing, headers=admin.headers), 404, "webhook_not_found"
        )


async def test_a_sign_up_is_listed_among_the_deliveries_and_can_be_replayed(
    client: Any, settings: Settings
) -> None:
    admin = await an_admin(client, settings)
    webhook, delivery = await a_sign_up_delivered(client, admin, "new@site.com")
    replayed = await client.post(
        f"{webhook}/deliveries/{delivery['id']}/replay", headers=admin.headers
    )

    assert delivery["type"] == "user.created"
    assert replayed.status_code == 202, replayed.text
    listed = (await client.get(f"{webhook}/deliveries", headers=admin.headers)).json()
    assert [d["message_id"] for d in listed["deliveries"]] == [delivery["message_id"]] * 2


async def test_rotating_shows_a_new_secret_and_removing_ends_the_endpoint(
    client: Any, settings: Settings
) -> None:
    admin = await an_admin(client, settings)
    added = await client.post(
        "/admin/webhooks", json={"url": URL, "events": ["user.deleted"]}, headers=admin.headers
    )
    webhook = f"/admin/webhooks/{added.json()['id']}"

    rotated = await client.post(f"{webhook}/rotate-secret", headers=admin.headers)
    removed = await client.delete(webhook, headers=admin.headers)

    assert rotated.status_code == 201, rotated.text
    assert rotated.json()["secret"] not in ("", added.json()["secret"])
    assert removed.status_code == 204
    assert (await client.get("/admin/webhooks", headers=admin.headers)).json() == {"webhooks": []}
    again = await client.post(f"{webhook}/rotate-secret", headers=admin.headers)
    assert_problem(again, 404, "webhook_not_found")


async def test_every_change_to_an_endpoint_is_audited_with_the_admin_who_made_it(
    client: Any, settings: Settings, caplog: pytest.LogCaptureFixture
) -> None:
    """An endpoint receives every user's address and sessions: whoever adds one (a stolen
    admin token, say) must leave a trace, as every other admin action does."""
    admin = await an_admin(client, settings)
    with caplog.at_level(logging.INFO, logger="authgate.audit"):
        webhook, delivery = await a_sign_up_delivered(client, admin, "bob@site.com")
        for path in ("rotate-secret", "enable", f"deliveries/{delivery['id']}/replay"):
            assert (await client.post(f"{webhook}/{path}", headers=admin.headers)).is_success
        assert (await client.delete(webhook, headers=admin.headers)).status_code == 204

    fields = [
        (r.getMessage(), getattr(r, "fields", {}))
        for r in caplog.records
        if r.name == "authgate.audit" and r.getMessage().startswith("webhook_")
    ]
    audited = [(e, f.get("actor"), f.get("actor_id"), f.get("target")) for e, f in fields]
    target = f"webhook:{webhook.rsplit('/', 1)[1]}"
    assert audited == [
        (event, "admin_api", int(admin.body["user"]["id"]), target)
        for event in (
            "webhook_added",
            "webhook_secret_rotated",
            "webhook_enabled",
            "webhook_delivery_replayed",
            "webhook_removed",
        )
    ]


async def test_only_admins_manage_webhooks(client: Any, settings: Settings) -> None:
    user = await sign_up(client, "user@site.com")

    response = await client.get("/admin/webhooks", headers=user.headers)

    assert_problem(response, 403, "forbidden")


async def test_enabling_answers_the_endpoint_and_an_unknown_one_is_not_found(
    client: Any, settings: Settings
) -> None:
    admin = await an_admin(client, settings)
    added = await client.post(
        "/admin/webhooks", json={"url": URL, "events": ["user.created"]}, headers=admin.headers
    )

    enabled = await client.post(
        f"/admin/webhooks/{added.json()['id']}/enable", headers=admin.headers
    )

    assert enabled.status_code == 200, enabled.text
    assert enabled.json() == {k: v for k, v in added.json().items() if k != "secret"}
    missing = await client.post("/admin/webhooks/99/enable", headers=admin.headers)
    assert_problem(missing, 404, "webhook_not_found")
