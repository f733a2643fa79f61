"""Verbs the admin API tests share: an admin to act with, rows to look at."""

from __future__ import annotations

from typing import Any

from litestar.testing import AsyncTestClient

from application.admin import CLI, SetRoleCommand
from infrastructure.config import Settings
from interfaces.bootstrap import open_service
from interfaces.bootstrap.backends import open_database
from tests.http.helpers import Device, sign_in, sign_up

ADMIN_EMAIL = "admin@site.com"


async def set_role(settings: Settings, user_id: int, role: str) -> None:
    """What ``authgate users set-role`` does, through the same use case."""
    async with open_service(settings) as service:
        await service.cases.set_role.execute(SetRoleCommand(user_id=user_id, actor=CLI, role=role))


async def an_admin(client: AsyncTestClient[Any], settings: Settings) -> Device:
    """A signed-up user made admin, signed in again so its token says so too."""
    device = await sign_up(client, ADMIN_EMAIL)
    await set_role(settings, device.body["user"]["id"], "admin")
    return await sign_in(client, ADMIN_EMAIL)


async def count_rows(settings: Settings, table: str, user_id: int) -> int:
    database = open_database(settings)
    try:
        column = "id" if table == "users" else "user_id"
        async with database.transaction(write=False) as tx:
            row = await tx.fetchone(
                f"SELECT COUNT(*) AS n FROM {table} WHERE {column} = $1", user_id
            )
    finally:
        await database.close()
    assert row is not None
    return int(row["n"])
