from __future__ import annotations

from dataclasses import dataclass

from application.admin.commands import AdminCommand, admin_event, keep_an_admin
from application.client import ClientInfo
from application.revocation import SessionRevoker
from domain.entities import ADMIN_ROLE, ROLES
from domain.errors import FieldError, OwnAccount, UserNotFound, ValidationFailed
from domain.ports import AuditLog, Clock, RefreshGrantStore, UserAdministration, UserRepository


@dataclass(frozen=True, slots=True, kw_only=True)
class SetRoleCommand(AdminCommand):
    role: str


class SetRole:
    """Gives a user the role ``user`` or ``admin``.

    Admin requests read the role from the database, so they see the change at once. Access
    tokens carry the role too, taken at refresh from the grant (refresh reads no user row):
    the user's live grants get the new role here, so each session's next token has it.

    An admin demoted loses every session too: their access tokens still said ``admin`` until
    they expired, and a resource server (introspection, an offline verifier) took them at
    their word. Ending the sessions denies those tokens at once and tells the resource
    servers (Shared Signals), as disabling does (OWASP ASVS 5.0 V7.4.3: a change of what the
    user may do ends what was granted under the old).
    """

    def __init__(
        self,
        *,
        administration: UserAdministration,
        users: UserRepository,
        grants: RefreshGrantStore,
        revoker: SessionRevoker,
        clock: Clock,
        audit: AuditLog,
    ) -> None:
        self._administration = administration
        self._users = users
        self._revoker = revoker
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
        before = await self._users.get(command.user_id)
        role_set = admin_event(f"role_set_{command.role}", command)
        if before is None or not await self._administration.set_role(
            command.user_id, command.role, self._clock.now(), role_set
        ):
            raise UserNotFound()
        await self._grants.set_role(command.user_id, command.role)
        self._audit.record(role_set)
        if before.role == ADMIN_ROLE and command.role != ADMIN_ROLE:
            # The sessions' ends are the user's to read: they name the reason, not the
            # admin's address and browser (the audit line of the change has them).
            await self._revoker.revoke_all(
                command.user_id, None, ClientInfo(), reason="role_changed"
            )
