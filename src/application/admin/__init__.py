"""Administration: use cases for the admin API and the operator's CLI."""

from __future__ import annotations

from application.admin.commands import CLI, Actor, AdminCommand
from application.admin.directory import UserDetails, UsersPage, UsersQuery
from application.admin.roles import SetRoleCommand

__all__ = [
    "CLI",
    "Actor",
    "AdminCommand",
    "SetRoleCommand",
    "UserDetails",
    "UsersPage",
    "UsersQuery",
]
