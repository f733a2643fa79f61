"""An operator removes a user's second factors (a password reset does not), unlocks a user
whom code guesses locked, and erases them with the user."""

from __future__ import annotations

from typing import Any

from infrastructure.config import Settings
from tests.fakes.authenticator import SoftAuthenticator
from tests.fakes.clock import FakeClock
from tests.http.admin_helpers import an_admin, count_rows
from tests.http.helpers import BASE_URL, Device, assert_problem, sign_in, sign_up
from tests.http.mfa_helpers import enable_totp, password_step, second_step

EMAIL = "user@site.com"


async def with_everything(client: Any, clock: FakeClock) -> tuple[Device, SoftAuthenticator]:
    device = await sign_up(client, EMAIL, verified=True)
    device = (await enable_totp(client, device, clock)).device  # aal2 now
    authenticator = SoftAuthenticator(BASE_URL)
    options = await client.post("/auth/passkeys/register/options", headers=device.headers)
    added = await client.post(
        "/auth/passkeys/register/verify",
        json={"credential": authenticator.create(options.json())},
        headers=device.headers,
    )
    assert added.status_code == 201
    return device, authenticator


async def passkey_sign_in(client: Any, authenticator: SoftAuthenticator) -> Any:
    options = await client.post("/auth/passkeys/login/options")
    credential = authenticator.get(options.json())
    return await client.post("/auth/passkeys/login/verify", json={"credential": credential})


async def test_an_admin_removes_the_app_and_the_passkeys(
    client: Any, settings: Settings, clock: FakeClock
) -> None:
    admin = await an_admin(client, settings)
    device, authenticator = await with_everything(client, clock)
    user_id = device.body["user"]["id"]

    response = await client.post(f"/admin/users/{user_id}/mfa-reset", headers=admin.headers)

    assert response.status_code == 204, response.text
    await sign_in(client, EMAIL)  # the password alone again
    assert_problem(await passkey_sign_in(client, authenticator), 401, "invalid_passkey")
    for table in ("totp_credentials", "recovery_codes", "passkeys"):
        assert await count_rows(settings, table, user_id) == 0, table


async def test_only_an_admin_may_reset_and_only_an_existing_user(
    client: Any, settings: Settings, clock: FakeClock
) -> None:
    admin = await an_admin(client, settings)
    device, _ = await with_everything(client, clock)
    user_id = device.body["user"]["id"]

    own = await client.post(f"/admin/users/{user_id}/mfa-reset", headers=device.headers)
    assert_problem(own, 403, "forbidden")
    anonymous = await client.post(f"/admin/users/{user_id}/mfa-reset")
    assert_problem(anonymous, 401, "invalid_token")
    unknown = await client.post("/admin/users/999/mfa-reset", headers=admin.headers)
    assert_problem(unknown, 404, "user_not_found")
    await password_step(client, EMAIL)  # still guarded
    assert await count_rows(settings, "passkeys", user_id) == 1


async def test_an_admin_cannot_reset_its_own_second_factors_over_the_api(
    client: Any, settings: Settings
) -> None:
    """Its own factors go as any user's do, with a recent proof: an admin token left in a tab
    (past the step-up's max age) must not make the admin's account one a password opens."""
    admin = await an_admin(client, settings)
    admin_id = admin.body["user"]["id"]

    own = await client.post(f"/admin/users/{admin_id}/mfa-reset", headers=admin.headers)

    assert_problem(own, 409, "own_account")


async def test_deleting_a_user_erases_its_second_factors(
    client: Any, settings: Settings, clock: FakeClock
) -> None:
    admin = await an_admin(client, settings)
    device, authenticator = await with_everything(client, clock)
    user_id = device.body["user"]["id"]

    assert (
        await client.delete(f"/admin/users/{user_id}", headers=admin.headers)
    ).status_code == 204

    for table in ("totp_credentials", "recovery_codes", "passkeys"):
        assert await count_rows(settings, table, user_id) == 0, table
    assert_problem(await passkey_sign_in(client, authenticator), 401, "invalid_passkey")


async def test_a_429_at_the_second_step_keeps_the_attempt_for_after_an_unlock(
    make_client: Any, clock: FakeClock, settings: Settings
) -> None:
    async with make_client(login_limit=2) as client:
        admin = await an_admin(client, settings)
        device = await sign_up(client, EMAIL, verified=True)
        enabled = await enable_totp(client, device, clock)
        device = enabled.device  # aal2 now
        token = await password_step(client, EMAIL)
        assert_problem(await second_step(client, token, code="000000"), 401, "invalid_mfa_code")
        limited = await second_step(client, token, code=enabled.app.next_code())
        assert_problem(limited, 429, "too_many_requests")

        unlock = f"/admin/users/{device.body['user']['id']}/unlock"
        assert (await client.post(unlock, headers=admin.headers)).status_code == 204
        done = await second_step(client, token, code=enabled.app.code())
        assert done.status_code == 200, done.text
