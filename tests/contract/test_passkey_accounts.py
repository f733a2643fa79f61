"""Passkey-first accounts, one suite over memory, SQLite and PostgreSQL: the user and its
passkey are written together or not at all, also when two sign-ups race for one address."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

import pytest

from domain.entities import NewUser
from domain.errors import EmailTaken, PasskeyExists
from domain.ports import Attested
from tests.contract.conftest import PasskeyAccountStores
from tests.contract.test_second_factor import new_passkey

NOW = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
HANDLE = b"\x01handle\xfe" * 4


def a_user(email: str = "ada@example.com") -> NewUser:
    return NewUser(email=email, password_hash=None, name="Ada", role="user", created_at=NOW)


def a_key(credential_id: bytes = b"cred-1") -> Attested:
    return Attested(
        credential_id=credential_id,
        public_key=b"\xa5\x01\x02\x03\x26",
        sign_count=0,
        transports=("internal",),
    )


async def test_an_account_opens_with_its_passkey_and_no_password(
    passkey_accounts: PasskeyAccountStores,
):
    user, passkey = await passkey_accounts.accounts.open(a_user(), a_key(), HANDLE, told=None)

    assert (user.email, user.password_hash, user.name, user.email_verified) == (
        "ada@example.com",
        None,
        "Ada",
        False,
    )
    assert await passkey_accounts.users.get_by_email("ada@example.com") == user
    [stored] = await passkey_accounts.passkeys.of_user(user.id)
    assert stored == passkey
    assert (stored.credential_id, stored.user_handle, stored.name) == (b"cred-1", HANDLE, None)
    assert stored.at_sign_up
    assert stored.created_at == NOW


async def test_a_taken_address_writes_neither_user_nor_passkey(
    passkey_accounts: PasskeyAccountStores,
):
    await passkey_accounts.accounts.open(a_user(), a_key(b"first"), HANDLE, told=None)

    with pytest.raises(EmailTaken):
        await passkey_accounts.accounts.open(a_user(), a_key(b"second"), HANDLE, told=None)

    assert await passkey_accounts.passkeys.by_credential(b"second") is None


async def test_a_registered_credential_writes_no_user(passkey_accounts: PasskeyAccountStores):
    await passkey_accounts.accounts.open(a_user(), a_key(b"same"), HANDLE, told=None)

    with pytest.raises(PasskeyExists):
        await passkey_accounts.accounts.open(
            a_user("bob@example.com"), a_key(b"same"), HANDLE, told=None
        )

    assert await passkey_accounts.users.get_by_email("bob@example.com") is None


async def test_of_two_racing_sign_ups_for_one_address_one_opens(
    passkey_accounts: PasskeyAccountStores,
):
    outcomes = await asyncio.gather(
        *(
            passkey_accounts.accounts.open(a_user(), a_key(f"cred-{n}".encode()), HANDLE, told=None)
            for n in range(4)
        ),
        return_exceptions=True,
    )

    opened = [o for o in outcomes if not isinstance(o, BaseException)]
    assert len(opened) == 1
    assert all(isinstance(o, EmailTaken) for o in outcomes if isinstance(o, BaseException))
    user, _ = opened[0]
    assert len(await passkey_accounts.passkeys.of_user(user.id)) == 1
    for n in range(4):
        found = await passkey_accounts.passkeys.by_credential(f"cred-{n}".encode())
        assert found is None or found.user_id == user.id


async def test_a_passkey_added_later_is_no_sign_up_passkey(
    passkey_accounts: PasskeyAccountStores,
):
    user, _ = await passkey_accounts.accounts.open(a_user(), a_key(b"first"), HANDLE, told=None)
    later = await passkey_accounts.passkeys.add(new_passkey(b"later", user_id=user.id), told=None)

    assert not later.at_sign_up
    assert [p.at_sign_up for p in await passkey_accounts.passkeys.of_user(user.id)] == [
        True,
        False,
    ]
