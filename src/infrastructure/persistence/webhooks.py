"""Webhook endpoints (the admin's side) and the webhook outbox (the sender's side) in SQL.

Claims work as in the mail outbox (leases; ``FOR UPDATE SKIP LOCKED`` in PostgreSQL), with
one more condition: a delivery waits while an older one of the same user to the same
endpoint is unsettled, so each endpoint hears of one user's changes in order.

Signing secrets are sealed at rest by the ``SecretBox`` (as TOTP secrets are), bound to their
endpoint's id: a database dump signs nothing, and a sealed secret copied onto another
endpoint's row does not open (OWASP ASVS 5.0 V11.3, V13.3).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta

from application.webhooks.signing import PREFIX as PLAIN
from domain.ports import (
    ClaimedWebhook,
    NewWebhookEndpoint,
    SecretBox,
    WebhookDelivery,
    WebhookEndpoint,
    WebhookEndpoints,
    WebhookEvent,
    WebhookOutbox,
)
from infrastructure.persistence.account_events import events_column
from infrastructure.persistence.database import (
    Database,
    Row,
    as_datetime,
    as_optional_datetime,
    skip_locked,
)

_ENDPOINT = (
    "id, url, events, secret_sealed, previous_secret_sealed, previous_until, disabled_at,"
    " created_at"
)
_DELIVERY = (
    "id, endpoint_id, message_id, type, payload, created_at, attempts, last_status,"
    " last_error, delivered_at, failed_at"
)
_PENDING = "delivered_at IS NULL AND failed_at IS NULL"
_ERROR_MAX = 500


def _context(endpoint_id: int) -> str:
    return f"webhook endpoint {endpoint_id}"


def _endpoint(row: Row, box: SecretBox) -> WebhookEndpoint:
    context = _context(int(row["id"]))
    previous = row["previous_secret_sealed"]
    return WebhookEndpoint(
        id=int(row["id"]),
        url=row["url"],
        events=tuple(WebhookEvent(name) for name in row["events"].split()),
        secret=box.open(row["secret_sealed"], context),
        previous_secret=None if previous is None else box.open(previous, context),
        previous_until=as_optional_datetime(row["previous_until"]),
        disabled_at=as_optional_datetime(row["disabled_at"]),
        created_at=as_datetime(row["created_at"]),
    )


def _delivery(row: Row) -> WebhookDelivery:
    return WebhookDelivery(
        id=int(row["id"]),
        endpoint_id=int(row["endpoint_id"]),
        message_id=row["message_id"],
        type=row["type"],
        payload=row["payload"],
        created_at=as_datetime(row["created_at"]),
        attempts=int(row["attempts"]),
        last_status=None if row["last_status"] is None else int(row["last_status"]),
        last_error=row["last_error"],
        delivered_at=as_optional_datetime(row["delivered_at"]),
        failed_at=as_optional_datetime(row["failed_at"]),
    )


class SqlWebhookEndpoints(WebhookEndpoints):
    def __init__(self, database: Database, box: SecretBox) -> None:
        self._db = database
        self._box = box

    async def add(self, endpoint: NewWebhookEndpoint) -> WebhookEndpoint:
        async with self._db.transaction() as tx:
            # Sealed under the id the row gets, so in two steps of one transaction.
            added = await tx.fetchone(
                "INSERT INTO webhook_endpoints (url, events, secret_sealed, created_at)"
                " VALUES ($1, $2, '', $3) RETURNING id",
                endpoint.url,
                events_column(endpoint.events),
                endpoint.created_at,
            )
            assert added is not None
            endpoint_id = int(added["id"])
            row = await tx.fetchone(
                f"UPDATE webhook_endpoints SET secret_sealed = $2 WHERE id = $1"
                f" RETURNING {_ENDPOINT}",
                endpoint_id,
                self._box.seal(endpoint.secret, _context(endpoint_id)),
            )
        assert row is not None
        return _endpoint(row, self._box)

    async def all(self) -> list[WebhookEndpoint]:
        async with self._db.transaction(write=False) as tx:
            rows = await tx.fetchall(f"SELECT {_ENDPOINT} FROM webhook_endpoints ORDER BY id")
        return [_endpoint(row, self._box) for row in rows]

    async def get(self, endpoint_id: int) -> WebhookEndpoint | None:
        async with self._db.transaction(write=False) as tx:
            row = await tx.fetchone(
                f"SELECT {_ENDPOINT} FROM webhook_endpoints WHERE id = $1", endpoint_id
            )
        return None if row is None else _endpoint(row, self._box)

    async def remove(self, endpoint_id: int) -> bool:
        async with self._db.transaction() as tx:
            await tx.execute("DELETE FROM webhook_deliveries WHERE endpoint_id = $1", endpoint_id)
            removed = await tx.execute("DELETE FROM webhook_endpoints WHERE id = $1", endpoint_id)
        return removed > 0

    async def rotate(
        self, endpoint_id: int, secret: str, previous_until: datetime
    ) -> WebhookEndpoint | None:
        async with self._db.transaction() as tx:
            row = await tx.fetchone(
                "UPDATE webhook_endpoints SET previous_secret_sealed = secret_sealed,"
                " secret_sealed = $2, previous_until = $3"
                f" WHERE id = $1 RETURNING {_ENDPOINT}",
                endpoint_id,
                self._box.seal(secret, _context(endpoint_id)),
                previous_until,
            )
        return None if row is None else _endpoint(row, self._box)

    async def enable(self, endpoint_id: int, now: datetime) -> WebhookEndpoint | None:
        async with self._db.transaction() as tx:
            row = await tx.fetchone(
                "UPDATE webhook_endpoints SET disabled_at = NULL"
                f" WHERE id = $1 RETURNING {_ENDPOINT}",
                endpoint_id,
            )
            # A 410 is the one answer settled without a retry (sender.GONE): that delivery
            # waits again, and as the oldest of its user it goes before the user's next.
            await tx.execute(
                "UPDATE webhook_deliveries SET failed_at = NULL, due_at = $2"
                " WHERE endpoint_id = $1 AND last_status = 410 AND failed_at IS NOT NULL",
                endpoint_id,
                now,
            )
        return None if row is None else _endpoint(row, self._box)

    async def deliveries(self, endpoint_id: int, limit: int) -> list[WebhookDelivery]:
        async with self._db.transaction(write=False) as tx:
            rows = await tx.fetchall(
                f"SELECT {_DELIVERY} FROM webhook_deliveries WHERE endpoint_id = $1"
                " ORDER BY id DESC LIMIT $2",
                endpoint_id,
                limit,
            )
        return [_delivery(row) for row in rows]

    async def replay(self, endpoint_id: int, delivery_id: int, now: datetime) -> bool:
        async with self._db.transaction() as tx:
            copied = await tx.execute(
                "INSERT INTO webhook_deliveries"
                " (endpoint_id, user_id, message_id, type, payload, created_at, due_at)"
                " SELECT endpoint_id, user_id, message_id, type, payload, $3, $3"
                " FROM webhook_deliveries WHERE id = $1 AND endpoint_id = $2",
                delivery_id,
                endpoint_id,
                now,
            )
        return copied > 0


class SqlWebhookOutbox(WebhookOutbox):
    def __init__(self, database: Database, box: SecretBox) -> None:
        self._db = database
        self._box = box
        self._skip_locked = skip_locked(database)

    async def delete_settled(self, before: datetime, limit: int) -> int:
        return await self._db.run(
            lambda tx: tx.execute(
                "DELETE FROM webhook_deliveries WHERE id IN (SELECT id FROM webhook_deliveries"
                " WHERE delivered_at < $1 OR failed_at < $1"
                f" ORDER BY id LIMIT $2{self._skip_locked})",
                before,
                limit,
            )
        )

    async def claim(self, now: datetime, lease: timedelta, limit: int) -> list[ClaimedWebhook]:
        async with self._db.transaction() as tx:
            rows = await tx.fetchall(
                "UPDATE webhook_deliveries SET claimed_until = $2, attempts = attempts + 1"
                " WHERE id IN ("
                " SELECT d.id FROM webhook_deliveries d"
                " WHERE d.delivered_at IS NULL AND d.failed_at IS NULL"
                " AND d.due_at <= $1 AND (d.claimed_until IS NULL OR d.claimed_until <= $1)"
                " AND d.endpoint_id IN"
                " (SELECT id FROM webhook_endpoints WHERE disabled_at IS NULL)"
                " AND NOT EXISTS (SELECT 1 FROM webhook_deliveries p"
                " WHERE p.endpoint_id = d.endpoint_id AND p.user_id = d.user_id AND p.id < d.id"
                " AND p.delivered_at IS NULL AND p.failed_at IS NULL)"
                f" ORDER BY d.due_at, d.id LIMIT $3{self._skip_locked})"
                f" RETURNING {_DELIVERY}",
                now,
                now + lease,
                limit,
            )
            deliveries = sorted((_delivery(row) for row in rows), key=lambda d: d.id)
            endpoints: dict[int, WebhookEndpoint] = {}
            for endpoint_id in {d.endpoint_id for d in deliveries}:
                row = await tx.fetchone(
                    f"SELECT {_ENDPOINT} FROM webhook_endpoints WHERE id = $1", endpoint_id
                )
                assert row is not None
                endpoints[endpoint_id] = _endpoint(row, self._box)
        return [ClaimedWebhook(delivery=d, endpoint=endpoints[d.endpoint_id]) for d in deliveries]

    async def delivered(self, delivery_id: int, now: datetime, status: int) -> None:
        await self._settle(
            "delivered_at = $2, last_status = $3, last_error = NULL", delivery_id, now, status
        )

    async def retry(
        self, delivery_id: int, due_at: datetime, error: str, status: int | None
    ) -> None:
        await self._settle(
            "due_at = $2, last_error = $3, last_status = $4",
            delivery_id,
            due_at,
            error[:_ERROR_MAX],
            status,
        )

    async def give_up(
        self, delivery_id: int, now: datetime, error: str, status: int | None
    ) -> None:
        await self._settle(
            "failed_at = $2, last_error = $3, last_status = $4",
            delivery_id,
            now,
            error[:_ERROR_MAX],
            status,
        )

    async def disable_endpoint(self, endpoint_id: int, now: datetime) -> None:
        async with self._db.transaction() as tx:
            await tx.execute(
                "UPDATE webhook_endpoints SET disabled_at = COALESCE(disabled_at, $2)"
                " WHERE id = $1",
                endpoint_id,
                now,
            )

    async def backlog(self, now: datetime) -> tuple[int, float | None]:
        async with self._db.transaction(write=False) as tx:
            row = await tx.fetchone(
                "SELECT COUNT(*) AS depth, MIN(created_at) AS oldest FROM webhook_deliveries"
                f" WHERE {_PENDING} AND endpoint_id IN"
                " (SELECT id FROM webhook_endpoints WHERE disabled_at IS NULL)"
            )
        assert row is not None
        if row["oldest"] is None:
            return int(row["depth"]), None
        return int(row["depth"]), (now - as_datetime(row["oldest"])).total_seconds()

    async def _settle(self, assignments: str, delivery_id: int, *args: object) -> None:
        async with self._db.transaction() as tx:
            await tx.execute(
                f"UPDATE webhook_deliveries SET claimed_until = NULL, {assignments} WHERE id = $1",
                delivery_id,
                *args,
            )


async def seal_plain_secrets(database: Database, box: Callable[[], SecretBox]) -> int:
    """Seal the secrets stored in the clear before migration 0011 (``authgate migrate`` calls
    it after the files); how many endpoints it sealed. ``box`` is called only when there
    are some, so a migration elsewhere never makes a secrets key of its own."""
    async with database.transaction() as tx:
        rows = await tx.fetchall(
            "SELECT id, secret_sealed, previous_secret_sealed FROM webhook_endpoints"
            " WHERE secret_sealed LIKE $1 OR previous_secret_sealed LIKE $1"
            f" ORDER BY id{database.for_update}",
            f"{PLAIN}%",
        )
        if not rows:
            return 0
        sealer = box()
        for row in rows:
            context = _context(int(row["id"]))
            await tx.execute(
                "UPDATE webhook_endpoints SET secret_sealed = $2, previous_secret_sealed = $3"
                " WHERE id = $1",
                int(row["id"]),
                _sealed_if_plain(sealer, row["secret_sealed"], context),
                _sealed_if_plain(sealer, row["previous_secret_sealed"], context),
            )
    return len(rows)


def _sealed_if_plain(box: SecretBox, value: str | None, context: str) -> str | None:
    return box.seal(value, context) if value is not None and value.startswith(PLAIN) else value
