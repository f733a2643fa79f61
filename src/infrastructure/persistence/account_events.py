"""Writes what a change tells of, in the change's own transaction: its webhook event (one
delivery per endpoint that subscribed to its type, none when nobody did) and its row in the
account's security activity. The storage adapters that make a change call it, so the change,
its announcement and its activity row commit or roll back together: no change goes
unannounced or missing from the activity, and neither tells of a change that was rolled back.
"""

from __future__ import annotations

import dataclasses
import json
import secrets
from datetime import datetime

from domain.activity import activity_of
from domain.ports import AuditEvent, NewActivity, WebhookEvent
from infrastructure.persistence.database import Tx

_ACTIVITY_FIELDS = (
    "type",
    "at",
    "ip_address",
    "user_agent",
    "session_id",
    "method",
    "reason",
    "actor",
)
# An entry of a user already erased is dropped in the same statement: an event that comes
# after the erasure (its sessions' ends) leaves nothing behind (GDPR Art. 17).
_ADD_ACTIVITY = (
    f"INSERT INTO security_activity (user_id, {', '.join(_ACTIVITY_FIELDS)})"
    " SELECT $1, $2, $3, $4, $5, $6, $7, $8, $9 WHERE EXISTS (SELECT 1 FROM users WHERE id = $1)"
)


def events_column(events: tuple[WebhookEvent, ...]) -> str:
    """Space-delimited with a space at both ends, so ``LIKE '% type %'`` matches a type."""
    return f" {' '.join(events)} "


async def record_event(
    tx: Tx,
    event: WebhookEvent | None,
    user_id: int,
    now: datetime,
    *,
    told: AuditEvent | None = None,
    email: str | None = None,
    **data: str | None,
) -> None:
    """``event``: the webhook type, None when the apps hear nothing of this change. ``told``:
    the audit event of the change as its use case tells it (who asked, from where, why); its
    activity row is written for ``user_id`` as of ``now``."""
    if told is not None:
        entry = activity_of(dataclasses.replace(told, user_id=user_id), now)
        if entry is not None:
            await add_activity(tx, entry)
    if event is not None:
        await _add_deliveries(tx, event, user_id, now, email, data)


async def add_activity(tx: Tx, entry: NewActivity) -> None:
    await tx.execute(
        _ADD_ACTIVITY,
        entry.user_id,
        entry.type,
        entry.at,
        entry.ip_address,
        entry.user_agent,
        entry.session_id,
        entry.method,
        entry.reason,
        entry.actor,
    )


async def _add_deliveries(
    tx: Tx,
    event: WebhookEvent,
    user_id: int,
    now: datetime,
    email: str | None,
    data: dict[str, str | None],
) -> None:
    # One look for both: whether any endpoint wants this type (most changes of most
    # deployments: none, and then nothing more is read or written) and the user's address.
    row = await tx.fetchone(
        "SELECT (SELECT email FROM users WHERE id = $1) AS email, EXISTS (SELECT 1 FROM"
        " webhook_endpoints WHERE disabled_at IS NULL AND events LIKE $2) AS wanted",
        user_id,
        f"% {event.value} %",
    )
    if row is None or not row["wanted"]:
        return
    if email is None:
        if row["email"] is None:
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
