"""Webhook endpoints and their outbox on SQLite and PostgreSQL: the change and its event
commit together, each endpoint gets the events it subscribed to, and one user's events are
claimable one at a time, oldest first."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import timedelta

import pytest

from domain.entities import NewPasskey, NewUser
from domain.errors import PasskeyExists, StorageUnavailable
from domain.ports import (
    NewWebhookEndpoint,
    WebhookDelivery,
    WebhookEndpoint,
    WebhookEndpoints,
    WebhookEvent,
    WebhookOutbox,
)
from infrastructure.persistence.administration import SqlUserAdministration
from infrastructure.persistence.database import Database
from infrastructure.persistence.passkeys import SqlPasskeys
from infrastructure.persistence.second_factor import SqlTotpCredentials
from infrastructure.persistence.sessions import SqlSessionRepository
from infrastructure.persistence.webhooks import SqlWebhookEndpoints, SqlWebhookOutbox
from tests.contract.conftest import OWNERS_CREATED
from tests.contract.webhook_helpers import BOX, start_session

NOW = OWNERS_CREATED + timedelta(days=1)
LEASE = timedelta(minutes=5)
ONE, TWO = 1, 2  # the two session owners


@pytest.fixture
def database(mail_clients: Callable[[], Database]) -> Database:
    return mail_clients()


@pytest.fixture
def endpoints(database: Database) -> WebhookEndpoints:
    return SqlWebhookEndpoints(database, BOX)


@pytest.fixture
def outbox(database: Database) -> WebhookOutbox:
    return SqlWebhookOutbox(database, BOX)


async def subscribe(endpoints: WebhookEndpoints, *events: WebhookEvent) -> WebhookEndpoint:
    return await endpoints.add(
        NewWebhookEndpoint(
            url="https://hooks.example.test/in",
            events=events,
            secret="whsec_c2VjcmV0LXNlY3JldC1zZWNyZXQtc2VjcmV0",
            created_at=NOW,
        )
    )


async def test_an_event_goes_to_each_endpoint_that_subscribed_to_it_naming_the_user(
    endpoints: WebhookEndpoints, outbox: WebhookOutbox, database: Database
) -> None:
    sessions = await subscribe(endpoints, WebhookEvent.SESSION_CREATED)
    await subscribe(endpoints, WebhookEvent.USER_DELETED)

    await start_session(database, "s1", ONE, NOW)

    [claimed] = await outbox.claim(NOW, LEASE, 10)
    assert claimed.endpoint == sessions
    assert claimed.delivery.type == "session.created"
    assert claimed.delivery.message_id.startswith("msg_")
    body = json.loads(claimed.delivery.payload)
    assert body["type"] == "session.created"
    assert body["data"] == {"user_id": "1", "email": "one@example.com", "session_id": "s1"}


async def test_one_users_events_are_claimable_one_at_a_time_oldest_first(
    endpoints: WebhookEndpoints, outbox: WebhookOutbox, database: Database
) -> None:
    await subscribe(endpoints, WebhookEvent.SESSION_CREATED, WebhookEvent.SESSION_REVOKED)
    await start_session(database, "a", ONE, NOW)
    await start_session(database, "b", TWO, NOW)
    await SqlSessionRepository(database).revoke_all(ONE, NOW, "logout")

    first = await outbox.claim(NOW, LEASE, 10)
    assert [(c.delivery.type, c.delivery.payload.count('"1"')) for c in first] == [
        ("session.created", 1),
        ("session.created", 0),
    ]
    # A retry keeps the user's later events waiting, past the lease too.
    await outbox.retry(first[0].delivery.id, NOW + timedelta(hours=1), "HTTP 500", 500)
    await outbox.delivered(first[1].delivery.id, NOW, 204)
    assert await outbox.claim(NOW + LEASE, LEASE, 10) == []

    await outbox.give_up(first[0].delivery.id, NOW, "gone for three days", None)
    [revoked] = await outbox.claim(NOW + LEASE, LEASE, 10)
    body = json.loads(revoked.delivery.payload)
    assert body["data"] == {
        "user_id": "1",
        "email": "one@example.com",
        "session_id": "a",
        "reason": "logout",
    }


async def test_a_claimed_delivery_is_nobody_elses_until_its_lease_ends(
    endpoints: WebhookEndpoints, outbox: WebhookOutbox, database: Database
) -> None:
    await subscribe(endpoints, WebhookEvent.SESSION_CREATED)
    await start_session(database, "a", ONE, NOW)

    [first] = await outbox.claim(NOW, LEASE, 10)
    assert await outbox.claim(NOW + LEASE - timedelta(seconds=1), LEASE, 10) == []
    [again] = await outbox.claim(NOW + LEASE, LEASE, 10)
    assert again.delivery.message_id == first.delivery.message_id
    assert again.delivery.attempts == 2


async def test_standing_changes_are_announced_once_and_the_deletion_outlives_the_user(
    endpoints: WebhookEndpoints, outbox: WebhookOutbox, database: Database
) -> None:
    endpoint = await subscribe(
        endpoints, WebhookEvent.USER_DISABLED, WebhookEvent.USER_ENABLED, WebhookEvent.USER_DELETED
    )
    administration = SqlUserAdministration(database)

    await administration.set_disabled(TWO, NOW, NOW)
    await administration.set_disabled(TWO, NOW, NOW)  # already disabled: no second event
    await administration.set_disabled(TWO, None, NOW)
    await administration.erase(TWO, NOW)

    listed = await endpoints.deliveries(endpoint.id, 10)
    assert [d.type for d in listed] == ["user.deleted", "user.enabled", "user.disabled"]
    assert json.loads(listed[0].payload)["data"] == {"user_id": "2", "email": "two@example.com"}
    assert len(await outbox.claim(NOW, LEASE, 10)) == 1  # in order: the first one only


async def test_an_erasure_takes_the_users_settled_deliveries_and_sends_the_pending_ones(
    endpoints: WebhookEndpoints, outbox: WebhookOutbox, database: Database
) -> None:
    """GDPR Art. 17: a delivery names the user's address; once it went out, its record goes
    with the user (an admin could otherwise send it out again). What is still to go out
    goes, the erasure's own user.deleted last."""
    endpoint = await subscribe(endpoints, WebhookEvent.SESSION_CREATED, WebhookEvent.USER_DELETED)
    await start_session(database, "sent", TWO, NOW)
    [sent] = await outbox.claim(NOW, LEASE, 10)
    await outbox.delivered(sent.delivery.id, NOW, 204)
    await start_session(database, "pending", TWO, NOW)

    await SqlUserAdministration(database).erase(TWO, NOW)

    listed = await endpoints.deliveries(endpoint.id, 10)
    assert [d.type for d in listed] == ["user.deleted", "session.created"]
    assert '"pending"' in listed[1].payload
    assert not await endpoints.replay(endpoint.id, sent.delivery.id, NOW)


async def test_deliveries_settled_before_a_time_are_deleted_a_batch_at_a_time(
    endpoints: WebhookEndpoints, outbox: WebhookOutbox, database: Database
) -> None:
    endpoint = await subscribe(endpoints, WebhookEvent.SESSION_CREATED)
    for session_id, user_id in (("a", ONE), ("b", TWO)):
        await start_session(database, session_id, user_id, NOW)
    delivered, given_up = await outbox.claim(NOW, LEASE, 10)
    await outbox.delivered(delivered.delivery.id, NOW, 204)
    await outbox.give_up(given_up.delivery.id, NOW, "gone for three days", None)
    await start_session(database, "c", ONE, NOW)  # still to go out

    assert await outbox.delete_settled(NOW, 10) == 0  # settled at NOW: not before it
    assert await outbox.delete_settled(NOW + timedelta(seconds=1), 1) == 1
    assert await outbox.delete_settled(NOW + timedelta(seconds=1), 10) == 1
    [left] = await endpoints.deliveries(endpoint.id, 10)
    assert '"c"' in left.payload


async def test_a_disabled_or_removed_endpoint_gets_nothing(
    endpoints: WebhookEndpoints, outbox: WebhookOutbox, database: Database
) -> None:
    gone = await subscribe(endpoints, WebhookEvent.SESSION_CREATED)
    removed = await subscribe(endpoints, WebhookEvent.SESSION_CREATED)
    await start_session(database, "a", ONE, NOW)
    await outbox.disable_endpoint(gone.id, NOW)

    [claimed] = await outbox.claim(NOW, LEASE, 10)
    assert claimed.endpoint.id == removed.id
    assert await endpoints.remove(removed.id)
    assert not await endpoints.remove(removed.id)
    await start_session(database, "b", ONE, NOW)
    assert await outbox.claim(NOW + LEASE, LEASE, 10) == []
    assert await outbox.backlog(NOW) == (0, None)
    [endpoint] = await endpoints.all()
    assert endpoint.disabled_at == NOW


async def test_a_replay_sends_the_same_message_again_behind_the_users_pending_ones(
    endpoints: WebhookEndpoints, outbox: WebhookOutbox, database: Database
) -> None:
    endpoint = await subscribe(endpoints, WebhookEvent.SESSION_CREATED)
    await start_session(database, "a", ONE, NOW)
    [first] = await outbox.claim(NOW, LEASE, 10)
    await outbox.delivered(first.delivery.id, NOW, 200)

    assert await endpoints.replay(endpoint.id, first.delivery.id, NOW + timedelta(hours=1))
    assert not await endpoints.replay(endpoint.id + 1, first.delivery.id, NOW)
    assert await outbox.backlog(NOW + timedelta(hours=2)) == (1, 3600.0)
    [replayed] = await outbox.claim(NOW + timedelta(hours=1), LEASE, 10)
    assert replayed.delivery.message_id == first.delivery.message_id
    assert replayed.delivery.payload == first.delivery.payload
    listed = await endpoints.deliveries(endpoint.id, 10)
    assert [(d.id, d.last_status) for d in listed] == [
        (replayed.delivery.id, None),
        (first.delivery.id, 200),
    ]


async def test_a_rotated_secret_signs_beside_the_new_one_until_it_lapses(
    endpoints: WebhookEndpoints,
) -> None:
    endpoint = await subscribe(endpoints, WebhookEvent.USER_CREATED)

    rotated = await endpoints.rotate(endpoint.id, "whsec_bmV3", NOW + timedelta(hours=24))

    assert rotated is not None
    assert rotated.signing_secrets(NOW) == ("whsec_bmV3", endpoint.secret)
    assert rotated.signing_secrets(NOW + timedelta(hours=24)) == ("whsec_bmV3",)
    assert await endpoints.get(endpoint.id) == rotated
    assert await endpoints.rotate(endpoint.id + 1, "whsec_eA==", NOW) is None


async def test_second_factors_added_and_removed_are_announced_as_mfa_events(
    endpoints: WebhookEndpoints, outbox: WebhookOutbox, database: Database
) -> None:
    await subscribe(endpoints, WebhookEvent.MFA_ENABLED, WebhookEvent.MFA_DISABLED)
    totp, passkeys = SqlTotpCredentials(database), SqlPasskeys(database)
    await totp.start(ONE, "sealed", NOW)
    assert not await totp.remove(ONE, NOW)  # never confirmed: no second factor, no event
    await totp.start(ONE, "sealed", NOW)
    await totp.activate(ONE, "sealed", 1, ["digest"], NOW)
    await passkeys.add(new_passkey(ONE, b"one"))
    with pytest.raises(PasskeyExists):  # rolled back, and its event with it
        await passkeys.add(new_passkey(ONE, b"one"))
    await totp.remove(ONE, NOW)
    await passkeys.remove_all(ONE, NOW)

    announced = []
    while claimed := await outbox.claim(NOW, LEASE, 10):
        [one] = claimed  # one user's events go one at a time
        announced.append((one.delivery.type, json.loads(one.delivery.payload)["data"]["factor"]))
        await outbox.delivered(one.delivery.id, NOW, 204)
    assert announced == [
        ("mfa.enabled", "totp"),
        ("mfa.enabled", "passkey"),
        ("mfa.disabled", "totp"),
        ("mfa.disabled", "passkey"),
    ]


def new_passkey(user_id: int, credential_id: bytes) -> NewPasskey:
    return NewPasskey(
        user_id=user_id,
        credential_id=credential_id,
        public_key=b"key",
        sign_count=0,
        transports=(),
        user_handle=b"handle",
        name="laptop",
        created_at=NOW,
    )


async def test_imported_users_are_announced_as_created_like_registered_ones(
    endpoints: WebhookEndpoints, database: Database
) -> None:
    endpoint = await subscribe(endpoints, WebhookEvent.USER_CREATED)
    administration = SqlUserAdministration(database)
    imported = [
        NewUser(email=email, password_hash="h", name=None, role="user", created_at=NOW)
        for email in ("new@example.com", "one@example.com", "other@example.com")
    ]

    # one@example.com is taken: skipped, and not announced a second time.
    assert await administration.insert_new(imported, NOW) == {
        "new@example.com",
        "other@example.com",
    }

    listed = await endpoints.deliveries(endpoint.id, 10)
    announced = sorted(json.loads(d.payload)["data"]["email"] for d in listed)
    assert [d.type for d in listed] == ["user.created", "user.created"]
    assert announced == ["new@example.com", "other@example.com"]
    assert {json.loads(d.payload)["timestamp"] for d in listed} == {NOW.isoformat()}


async def test_enabling_an_endpoint_a_410_disabled_resumes_its_deliveries_in_order(
    endpoints: WebhookEndpoints, outbox: WebhookOutbox, database: Database
) -> None:
    endpoint = await subscribe(endpoints, WebhookEvent.SESSION_CREATED)
    await start_session(database, "a", ONE, NOW)
    await start_session(database, "b", ONE, NOW)
    await start_session(database, "c", TWO, NOW)
    claimed = {owner(c.delivery): c.delivery for c in await outbox.claim(NOW, LEASE, 10)}
    await outbox.give_up(claimed[TWO].id, NOW, "HTTP 500", 500)  # three days of failures
    # What the sender does on a 410: the endpoint disabled, the delivery answered settled.
    await outbox.disable_endpoint(endpoint.id, NOW)
    await outbox.give_up(claimed[ONE].id, NOW, "HTTP 410", 410)
    assert await outbox.claim(NOW + LEASE, LEASE, 10) == []

    later = NOW + timedelta(hours=1)
    enabled = await endpoints.enable(endpoint.id, later)

    assert enabled is not None
    assert (enabled.id, enabled.disabled_at) == (endpoint.id, None)
    # The event the 410 answered goes again first (same webhook-id), then the user's next.
    [again] = await outbox.claim(later, LEASE, 10)
    assert again.delivery.message_id == claimed[ONE].message_id
    await outbox.delivered(again.delivery.id, later, 204)
    [following] = await outbox.claim(later, LEASE, 10)
    assert json.loads(following.delivery.payload)["data"]["session_id"] == "b"
    await outbox.delivered(following.delivery.id, later, 204)
    # Given up on for another reason, it stays given up.
    assert await outbox.claim(later, LEASE, 10) == []
    assert await endpoints.enable(endpoint.id + 1, later) is None


def owner(delivery: WebhookDelivery) -> int:
    return int(json.loads(delivery.payload)["data"]["user_id"])


async def test_secrets_are_stored_sealed_to_their_endpoint_and_read_back_as_made(
    endpoints: WebhookEndpoints, outbox: WebhookOutbox, database: Database
) -> None:
    first = await subscribe(endpoints, WebhookEvent.SESSION_CREATED)
    second = await subscribe(endpoints, WebhookEvent.SESSION_CREATED)
    await endpoints.rotate(first.id, "whsec_bmV3LXNlY3JldA==", NOW + timedelta(hours=24))

    async with database.transaction(write=False) as tx:
        rows = await tx.fetchall(
            "SELECT id, secret_sealed, previous_secret_sealed FROM webhook_endpoints ORDER BY id"
        )
    stored = [str(value) for row in rows for value in row.values()]
    assert not any("whsec_" in value for value in stored)
    assert not any(first.secret.removeprefix("whsec_") in value for value in stored)
    rotated = await endpoints.get(first.id)
    assert rotated is not None
    assert rotated.signing_secrets(NOW) == ("whsec_bmV3LXNlY3JldA==", first.secret)
    await start_session(database, "a", ONE, NOW)
    claimed = {c.endpoint.id: c.endpoint for c in await outbox.claim(NOW, LEASE, 10)}
    assert claimed == {first.id: rotated, second.id: second}
    # Sealed to its endpoint: moved onto another row, it does not open there.
    async with database.transaction() as tx:
        await tx.execute(
            "UPDATE webhook_endpoints SET secret_sealed = $1 WHERE id = $2",
            rows[0]["secret_sealed"],
            second.id,
        )
    with pytest.raises(StorageUnavailable):
        await endpoints.get(second.id)
