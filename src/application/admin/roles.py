from __future__ import annotations

from dataclasses import dataclass

from application.admin.commands import AdminCommand, audit_admin
from domain.entities import ADMIN_ROLE, ROLES
from domain.errors import FieldError, OwnAccount, UserNotFound, ValidationFailed
from domain.ports import AuditLog, Clock, UserAdministration


@dataclass(frozen=True, slots=True, kw_only=True)
class SetRoleCommand(AdminCommand):
    role: str


class SetRole:
    """Gives a user the role ``user`` or ``admin``.

    Admin requests read the role from the database, so they see the change at once. Access
    tokens carry the role too: a live session gets the new role in the token of its next
    refresh, because the refresh re-reads the user (``application/refresh.py``). Should the
    refresh take the role from the grant instead, the grant store's update of the role of
    the user's live grants goes right after ``set_role`` in ``execute``.
    """

    def __init__(self, *, administration: UserAdministration, clock: Clock, audit: AuditLog):
        self._administration = administration
        self._clock = clock
        self._audit = audit

    async def execute(self, command: SetRoleCommand) -> None:
        if command.role not in ROLES:
            raise ValidationFailed([FieldError("role", f"must be one of {sorted(ROLES)}")])
        if command.actor.admin_id == command.user_id and command.role != ADMIN_ROLE:
            raise OwnAccount()
        if not await self._administration.set_role(
            command.user_id, command.role, self._clock.now()
        ):
            raise UserNotFound()
        audit_admin(self._audit, f"role_set_{command.role}", command)
