"""The login limit counts failed attempts per account, and every attempt per address."""

from __future__ import annotations

from typing import Any

from tests.http.helpers import PASSWORD, assert_problem, login, register

EMAIL = "user@site.com"


async def attempt(client: Any, password: str) -> Any:
    return await client.post("/auth/login", json={"email": EMAIL, "password": password})


async def test_signing_in_on_several_devices_never_locks_the_owner_out(make_client: Any) -> None:
    async with make_client(login_limit=10) as client:
        await register(client)
        for _ in range(3):
            await login(client)
        for _ in range(7):
            assert_problem(await attempt(client, "wrong-password"), 401, "invalid_credentials")

        assert_problem(await attempt(client, "wrong-password"), 401, "invalid_credentials")
        assert (await attempt(client, PASSWORD)).status_code == 200


async def test_ten_wrong_passwords_still_lock_the_account_from_that_address(
    make_client: Any,
) -> None:
    async with make_client(login_limit=10) as client:
        await register(client)
        for _ in range(10):
            assert_problem(await attempt(client, "wrong-password"), 401, "invalid_credentials")

        blocked = await attempt(client, PASSWORD)

    assert_problem(blocked, 429, "too_many_requests")
    assert int(blocked.headers["retry-after"]) >= 1


async def test_the_address_cap_counts_successful_logins_too(make_client: Any) -> None:
    async with make_client(login_limit=1) as client:  # one address: ten attempts per 5 min
        await register(client)
        for _ in range(10):
            await login(client)

        blocked = await attempt(client, PASSWORD)

    assert_problem(blocked, 429, "too_many_requests")
