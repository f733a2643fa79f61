"""Administration: use cases for the admin API and the operator's CLI."""

from __future__ import annotations

from dataclasses import dataclass

from application.admin.bulk_import import BulkImportUsers
from application.admin.commands import CLI, Actor, AdminCommand
from application.admin.directory import ListUsers, ShowUser, UserDetails, UsersPage, UsersQuery
from application.admin.guard import RequireAdmin
from application.admin.roles import SetRole, SetRoleCommand
from application.admin.second_factor import ResetSecondFactor
from application.admin.standing import DeleteUser, DisableUser, EnableUser, UnlockUser
from application.revocation import SessionRevoker
from application.session_issuer import SessionPolicy
from application.throttle import Limits, Throttle
from domain.ports import (
    AuditLog,
    Clock,
    Passkeys,
    RateLimiter,
    RefreshGrantStore,
    SessionRepository,
    TotpCredentials,
    UserAdministration,
    UserRepository,
)

__all__ = [
    "CLI",
    "Actor",
    "AdminCases",
    "AdminCommand",
    "AdminPorts",
    "SetRoleCommand",
    "UserDetails",
    "UsersPage",
    "UsersQuery",
    "wire_admin",
]


@dataclass(frozen=True, slots=True, kw_only=True)
class AdminPorts:
    users: UserRepository
    administration: UserAdministration
    sessions: SessionRepository
    grants: RefreshGrantStore
    limiter: RateLimiter
    totp: TotpCredentials
    passkeys: Passkeys
    clock: Clock
    audit: AuditLog


@dataclass(frozen=True, slots=True, kw_only=True)
class AdminCases:
    require_admin: RequireAdmin
    list_users: ListUsers
    show_user: ShowUser
    disable: DisableUser
    enable: EnableUser
    unlock: UnlockUser
    delete: DeleteUser
    set_role: SetRole
    import_users: BulkImportUsers
    reset_second_factor: ResetSecondFactor


def wire_admin(ports: AdminPorts, *, policy: SessionPolicy, limits: Limits) -> AdminCases:
    p = ports
    revoker = SessionRevoker(
        sessions=p.sessions, grants=p.grants, policy=policy, clock=p.clock, audit=p.audit
    )
    throttle = Throttle(limiter=p.limiter, limits=limits, clock=p.clock, audit=p.audit)
    return AdminCases(
        require_admin=RequireAdmin(users=p.users),
        list_users=ListUsers(administration=p.administration),
        show_user=ShowUser(
            users=p.users, administration=p.administration, sessions=p.sessions, clock=p.clock
        ),
        disable=DisableUser(
            users=p.users,
            administration=p.administration,
            revoker=revoker,
            clock=p.clock,
            audit=p.audit,
        ),
        enable=EnableUser(
            users=p.users, administration=p.administration, clock=p.clock, audit=p.audit
        ),
        unlock=UnlockUser(users=p.users, throttle=throttle, audit=p.audit),
        delete=DeleteUser(
            users=p.users,
            administration=p.administration,
            revoker=revoker,
            clock=p.clock,
            audit=p.audit,
        ),
        set_role=SetRole(
            administration=p.administration, grants=p.grants, clock=p.clock, audit=p.audit
        ),
        import_users=BulkImportUsers(administration=p.administration, clock=p.clock),
        reset_second_factor=ResetSecondFactor(
            users=p.users, totp=p.totp, passkeys=p.passkeys, audit=p.audit
        ),
    )
