"""The SQL adapter of ``UserAdministration``, on SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from domain.entities import NewPasskey, NewUser
from domain.errors import LastAdmin
from domain.ports import UserAdministration
from infrastructure.persistence.administration import SqlUserAdministration
from infrastructure.persistence.passkeys import SqlPasskeys
from infrastructure.persistence.second_factor import SqlTotpCredentials
from tests.contract.conftest import adapters, sql_database

NOW = datetime(2026, 1, 1, tzinfo=UTC)


def new(email: str) -> NewUser:
    return NewUser(email=email, password_hash="h", name=None, role="user", created_at=NOW)


@pytest.fixture(params=adapters(["sqlite", "postgres"]))
async def administration(
    request: pytest.FixtureRequest, tmp_path: Path
) -> AsyncIterator[UserAdministration]:
    async with sql_database(request.param, request, tmp_path) as database:
        yield SqlUserAdministration(database)


async def test_insert_new_skips_taken_emails_and_says_which_went_in(
    administration: UserAdministration,
) -> None:
    assert await administration.insert_new([new("a@x.com"), new("b@x.com")], NOW) == {
        "a@x.com",
        "b@x.com",
    }
    assert await administration.insert_new([new("b@x.com"), new("c@x.com")], NOW) == {"c@x.com"}
    assert await administration.taken(["a@x.com", "c@x.com", "d@x.com"], NOW) == {
        "a@x.com",
        "c@x.com",
    }
    assert await administration.insert_new([], NOW) == set()


async def test_pages_go_by_id_and_email_matches_exactly(
    administration: UserAdministration,
) -> None:
    await administration.insert_new([new(f"u{n}@x.com") for n in range(5)], NOW)

    first = await administration.page(after=None, limit=2, email=None)
    second = await administration.page(after=first[-1].id, limit=10, email=None)
    only = await administration.page(after=None, limit=10, email="u3@x.com")

    assert [u.email for u in first + second] == [f"u{n}@x.com" for n in range(5)]
    assert [u.email for u in only] == ["u3@x.com"]


async def test_disabling_keeps_the_first_time_and_enabling_clears_it(
    administration: UserAdministration,
) -> None:
    await administration.insert_new([new("a@x.com")], NOW)
    (user,) = await administration.page(after=None, limit=1, email="a@x.com")
    later = NOW + timedelta(hours=1)

    assert await administration.set_disabled(user.id, NOW, NOW, told=None)
    assert await administration.set_disabled(user.id, later, later, told=None)
    (disabled,) = await administration.page(after=None, limit=1, email="a@x.com")
    assert await administration.set_disabled(user.id, None, later, told=None)
    (enabled,) = await administration.page(after=None, limit=1, email="a@x.com")

    assert disabled.disabled_at == NOW
    assert enabled.disabled_at is None
    assert not await administration.set_disabled(user.id + 100, NOW, NOW, told=None)


async def test_set_role_and_erase_report_an_unknown_user(
    administration: UserAdministration,
) -> None:
    await administration.insert_new([new("a@x.com")], NOW)
    (user,) = await administration.page(after=None, limit=1, email="a@x.com")

    assert await administration.set_role(user.id, "admin", NOW, told=None)
    assert (await administration.page(after=None, limit=1, email=None))[0].role == "admin"
    assert await administration.erase(user.id, NOW)
    assert not await administration.erase(user.id, NOW)
    assert not await administration.set_role(user.id, "user", NOW, told=None)
    assert await administration.page(after=None, limit=10, email=None) == []


async def test_the_last_active_admin_is_the_only_admin_not_disabled(
    administration: UserAdministration,
) -> None:
    await administration.insert_new([new("a@x.com"), new("b@x.com")], NOW)
    a, b = await administration.page(after=None, limit=2, email=None)
    assert not await administration.last_active_admin(a.id)  # not an admin at all

    await administration.set_role(a.id, "admin", NOW, told=None)
    assert await administration.last_active_admin(a.id)
    await administration.set_role(b.id, "admin", NOW, told=None)
    assert not await administration.last_active_admin(a.id)
    await administration.set_disabled(b.id, NOW, NOW, told=None)
    assert await administration.last_active_admin(a.id)
    assert not await administration.last_active_admin(b.id)


async def test_two_admins_disabled_or_demoted_at_once_leave_one_active(
    administration: UserAdministration,
) -> None:
    """The change checks under one lock in its own transaction: of two changes that each
    saw the other admin still active, the second refuses (PostgreSQL runs them at once)."""
    await administration.insert_new([new("a@x.com"), new("b@x.com")], NOW)
    a, b = await administration.page(after=None, limit=2, email=None)
    for admin in (a, b):
        await administration.set_role(admin.id, "admin", NOW, told=None)

    outcomes = await asyncio.gather(
        administration.set_disabled(a.id, NOW, NOW, told=None),
        administration.set_role(b.id, "user", NOW, told=None),
        return_exceptions=True,
    )

    assert sorted(type(o).__name__ for o in outcomes) == ["LastAdmin", "bool"]
    with pytest.raises(LastAdmin):  # the one left stays one
        await administration.set_disabled(
            b.id if outcomes[0] is True else a.id, NOW, NOW, told=None
        )


@pytest.mark.parametrize("name", adapters(["sqlite", "postgres"]))
async def test_erasing_a_user_erases_its_second_factors(
    name: str, request: pytest.FixtureRequest, tmp_path: Path
) -> None:
    async with sql_database(name, request, tmp_path) as database:
        administration = SqlUserAdministration(database)
        await administration.insert_new([new("a@x.com"), new("b@x.com")], NOW)
        users = await administration.page(after=None, limit=2, email=None)
        totp, passkeys = SqlTotpCredentials(database), SqlPasskeys(database)
        for user in users:
            assert await totp.start(user.id, "sealed", NOW)
            assert await totp.activate(user.id, "sealed", 1, ["digest"], NOW)
            await passkeys.add(
                NewPasskey(
                    user_id=user.id,
                    credential_id=f"cred-{user.id}".encode(),
                    public_key=b"key",
                    sign_count=0,
                    transports=(),
                    user_handle=b"handle",
                    name=None,
                    created_at=NOW,
                )
            )
        erased, kept = users

        assert await administration.erase(erased.id, NOW)

        async with database.transaction(write=False) as tx:
            for table in ("totp_credentials", "recovery_codes", "passkeys"):
                rows = await tx.fetchall(f"SELECT user_id FROM {table}")
                assert [int(r["user_id"]) for r in rows] == [kept.id], table
