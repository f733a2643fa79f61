"""Writes a webhook event in the caller's transaction: one delivery per endpoint that
subscribed to its type (none when nobody did). The storage adapters that make a change call
it, so the change and its announcement commit or roll back together."""

from __future__ import annotations

import json
import secrets
from datetime import datetime

from domain.ports import WebhookEvent
from infrastructure.persistence.database import Tx


def events_column(events: tuple[WebhookEvent, ...]) -> str:
    """Space-delimited with a space at both ends, so ``LIKE '% type %'`` matches a type."""
    return f" {' '.join(events)} "


async def record_event(
    tx: Tx,
    event: WebhookEvent,
    user_id: int,
    now: datetime,
    *,
    email: str | None = None,
    **data: str | None,
) -> None:
    if email is None:
        row = await tx.fetchone("SELECT email FROM users WHERE id = $1", user_id)
        if row is None:
            return
        email = str(row["email"])
    # Standard Webhooks: {"type", "timestamp", "data"}; the data names the user, never a
    # secret (no hash, token or key leaves in a webhook).
    payload = json.dumps(
        {
            "type": event.value,
            "timestamp": now.isoformat(),
            "data": {"user_id": str(user_id), "email": email, **data},
        },
        separators=(",", ":"),
    )
    await tx.execute(
        "INSERT INTO webhook_deliveries"
        " (endpoint_id, user_id, message_id, type, payload, created_at, due_at)"
        " SELECT id, $1, $2, $3, $4, $5, $5 FROM webhook_endpoints"
        " WHERE disabled_at IS NULL AND events LIKE $6 ORDER BY id",
        user_id,
        f"msg_{secrets.token_urlsafe(18)}",
        event.value,
        payload,
        now,
        f"% {event.value} %",
    )
