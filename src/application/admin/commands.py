from __future__ import annotations

from dataclasses import dataclass

from application.client import ClientInfo, audit_event
from domain.ports import AuditLog


@dataclass(frozen=True, slots=True, kw_only=True)
class Actor:
    """Who administers: an admin's user id over HTTP, or None for the operator's CLI."""

    admin_id: int | None
    client: ClientInfo

    @property
    def name(self) -> str:
        return "admin_api" if self.admin_id is not None else "cli"


CLI = Actor(admin_id=None, client=ClientInfo(user_agent="authgate-cli"))


@dataclass(frozen=True, slots=True, kw_only=True)
class AdminCommand:
    user_id: int
    actor: Actor


def audit_admin(audit: AuditLog, event: str, command: AdminCommand) -> None:
    audit_event(
        audit,
        event,
        command.actor.client,
        user_id=command.user_id,
        actor_id=command.actor.admin_id,
        actor=command.actor.name,
    )
