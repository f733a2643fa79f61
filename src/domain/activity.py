"""Which audit events the account's activity shows, and as what: one rule for the events
written with their change (in its transaction) and for those written after."""

from __future__ import annotations

from datetime import datetime

from domain.ports.activity import NewActivity
from domain.ports.audit import AuditEvent

# Said better by another entry: every sign-in is also a ``session_started`` (with its
# method), and a rehash changes nothing the user chose.
NOT_SHOWN = frozenset({"login_succeeded", "password_rehashed"})


def activity_of(event: AuditEvent, at: datetime) -> NewActivity | None:
    if event.user_id is None or event.event in NOT_SHOWN:
        return None
    # An administrator's action over the API shows as one (``actor``), not from where: the
    # admin's own address and browser stay in the audit log, out of every user's reach. (The
    # CLI's entries say only "authgate-cli".)
    an_admins_own = event.actor_id is not None
    return NewActivity(
        user_id=event.user_id,
        type=event.event,
        at=at,
        ip_address=None if an_admins_own else event.ip_address,
        user_agent=None if an_admins_own else event.user_agent,
        session_id=event.session_id,
        method=event.method,
        reason=event.reason,
        actor=event.actor,
    )
