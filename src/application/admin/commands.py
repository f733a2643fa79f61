from __future__ import annotations

from dataclasses import dataclass

from application.client import ClientInfo, audit_event, change_event
from domain.errors import LastAdmin
from domain.ports import AuditEvent, AuditLog, UserAdministration


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


async def keep_an_admin(administration: UserAdministration, user_id: int) -> None:
    """The last active admin stays one: nobody would be left to administer over the API.
    Checked before the change, not in its step: two admins demoting each other at once can
    still leave none, which ``authgate users set-role`` repairs."""
    if await administration.last_active_admin(user_id):
        raise LastAdmin()


def audit_admin(audit: AuditLog, event: str, command: AdminCommand) -> None:
    """An administrator's command that changes nothing stored here (an unlock, an erasure
    whose rows go with the user): its activity row, if any, is written behind."""
    audit_event(
        audit,
        event,
        command.actor.client,
        user_id=command.user_id,
        actor_id=command.actor.admin_id,
        actor=command.actor.name,
    )


def admin_event(event: str, command: AdminCommand) -> AuditEvent:
    """The event of an administrator's change: handed to the port that makes it, whose
    transaction writes its activity row, then to the audit log."""
    return change_event(
        event,
        command.actor.client,
        user_id=command.user_id,
        actor_id=command.actor.admin_id,
        actor=command.actor.name,
    )
