from __future__ import annotations

from dataclasses import dataclass

from application.admin.commands import AdminCommand, admin_event, keep_an_admin
from domain.entities import ADMIN_ROLE, ROLES
from domain.errors import FieldError, OwnAccount, UserNotFound, ValidationFailed
from domain.ports import AuditLog, Clock, RefreshGrantStore, UserAdministration


@dataclass(frozen=True, slots=True, kw_only=True)
class SetRoleCommand(AdminCommand):
    role: str


class SetRole:
    """Gives a user the role ``user`` or ``admin``.

    Admin requests read the role from the database, so they see the change at once. Access
    tokens carry the role too, taken at refresh from the grant (refresh reads no user row):
    the user's live grants get the new role here, so each session's next token has it.
    """

    def __init__(
        self,
        *,
        administration: UserAdministration,
        grants: RefreshGrantStore,
        clock: Clock,
        audit: AuditLog,
    ) -> None:
        self._administration = administration
        self._grants = grants
        self._clock = clock
        self._audit = audit

    async def execute(self, command: SetRoleCommand) -> None:
        if command.role not in ROLES:
            raise ValidationFailed([FieldError("role", f"must be one of {sorted(ROLES)}")])
        if command.role != ADMIN_ROLE:
            await keep_an_admin(self._administration, command.user_id)
            if command.actor.admin_id == command.user_id:
                raise OwnAccount()
        role_set = admin_event(f"role_set_{command.role}", command)
        if not await self._administration.set_role(
            command.user_id, command.role, self._clock.now(), role_set
        ):
            raise UserNotFound()
        await self._grants.set_role(command.user_id, command.role)
        self._audit.record(role_set)
