"""An authenticator app (RFC 6238) for the signed-in user: set up, confirm, new recovery
codes, removal; the secret sealed at rest and never logged."""

from __future__ import annotations

import asyncio
import logging
import re
from collections import Counter
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest

from infrastructure.config import Settings
from tests.fakes.clock import FakeClock
from tests.http.helpers import PASSWORD, assert_problem, open_connections, sign_in, sign_up
from tests.http.mfa_helpers import App, enable_totp, password_step, rows, second_step

RECOVERY_CODE = re.compile(r"^[0-9a-hjkmnp-tv-z]{5}-[0-9a-hjkmnp-tv-z]{5}$")


async def test_setup_gives_a_secret_and_its_otpauth_uri_but_changes_no_sign_in(client, clock):
    device = await sign_up(client, verified=True)
    response = await client.post("/auth/mfa/totp/setup", headers=device.headers)

    assert response.status_code == 200
    assert response.headers["cache-control"] == "no-store"
    body = response.json()
    assert set(body) == {"secret", "otpauth_uri"}
    assert re.fullmatch(r"[A-Z2-7]{32}", body["secret"])
    uri = urlsplit(body["otpauth_uri"])
    assert (uri.scheme, uri.netloc, uri.path) == ("otpauth", "totp", "/authgate:user%40site.com")
    assert parse_qs(uri.query) == {"secret": [body["secret"]], "issuer": ["authgate"]}
    await sign_in(client)  # pending: the password alone still signs in


async def test_confirming_with_the_apps_code_activates_it_and_shows_ten_recovery_codes(
    client, clock
):
    device = await sign_up(client, verified=True)
    setup = await client.post("/auth/mfa/totp/setup", headers=device.headers)
    app = App(setup.json()["secret"], clock)

    response = await client.post(
        "/auth/mfa/totp/confirm", json={"code": app.code()}, headers=device.headers
    )

    assert response.status_code == 200, response.text
    assert response.headers["cache-control"] == "no-store"
    codes = response.json()["recovery_codes"]
    assert len(codes) == len(set(codes)) == 10
    assert all(RECOVERY_CODE.match(code) for code in codes), codes
    await password_step(client)  # now the password alone is not enough


async def test_a_wrong_first_code_leaves_the_app_pending(client, clock):
    device = await sign_up(client, verified=True)
    setup = await client.post("/auth/mfa/totp/setup", headers=device.headers)
    app = App(setup.json()["secret"], clock)
    wrong = f"{(int(app.code()) + 1) % 1_000_000:06d}"

    response = await client.post(
        "/auth/mfa/totp/confirm", json={"code": wrong}, headers=device.headers
    )

    assert_problem(response, 401, "invalid_mfa_code")
    await sign_in(client)
    retry = await client.post(
        "/auth/mfa/totp/confirm", json={"code": app.code()}, headers=device.headers
    )
    assert retry.status_code == 200


async def test_a_code_two_steps_off_does_not_confirm(client, clock):
    device = await sign_up(client, verified=True)
    setup = await client.post("/auth/mfa/totp/setup", headers=device.headers)
    app = App(setup.json()["secret"], clock)
    for steps in (-2, 2):
        response = await client.post(
            "/auth/mfa/totp/confirm", json={"code": app.code(steps)}, headers=device.headers
        )
        assert_problem(response, 401, "invalid_mfa_code")


async def test_confirm_without_setup_and_setup_over_an_active_app_are_409(client, clock):
    device = await sign_up(client, verified=True)
    response = await client.post(
        "/auth/mfa/totp/confirm", json={"code": "123456"}, headers=device.headers
    )
    assert_problem(response, 409, "totp_setup_required")

    enabled = await enable_totp(client, device, clock)
    device = enabled.device  # aal2 now
    again = await client.post("/auth/mfa/totp/setup", headers=device.headers)
    assert_problem(again, 409, "totp_already_enabled")
    confirm = await client.post(
        "/auth/mfa/totp/confirm", json={"code": enabled.app.next_code()}, headers=device.headers
    )
    assert_problem(confirm, 409, "totp_already_enabled")
    token = await password_step(client)  # the first secret still rules
    assert (await second_step(client, token, code=enabled.app.code())).status_code == 200


async def test_a_new_setup_replaces_a_pending_secret(client, clock):
    device = await sign_up(client, verified=True)
    first = await client.post("/auth/mfa/totp/setup", headers=device.headers)
    second = await client.post("/auth/mfa/totp/setup", headers=device.headers)
    old, new = App(first.json()["secret"], clock), App(second.json()["secret"], clock)
    assert old.secret != new.secret

    stale = await client.post(
        "/auth/mfa/totp/confirm", json={"code": old.code()}, headers=device.headers
    )
    assert_problem(stale, 401, "invalid_mfa_code")
    fresh = await client.post(
        "/auth/mfa/totp/confirm", json={"code": new.code()}, headers=device.headers
    )
    assert fresh.status_code == 200


@pytest.mark.every_deployment
async def test_of_five_concurrent_confirms_with_one_code_exactly_one_succeeds(
    concurrent_client, clock, settings: Settings
):
    async with concurrent_client() as client:
        device = await sign_up(client, verified=True)
        setup = await client.post("/auth/mfa/totp/setup", headers=device.headers)
        code = App(setup.json()["secret"], clock).code()
        await open_connections(client, device.access_token, 5)

        responses = await asyncio.gather(
            *(
                client.post("/auth/mfa/totp/confirm", json={"code": code}, headers=device.headers)
                for _ in range(5)
            )
        )

        assert Counter(r.status_code for r in responses)[200] == 1
        # The others lost: while the winner's step was being written (401 invalid_mfa_code),
        # or after it, when the account has an app and this token is still aal1 (step-up's
        # 401) or the app is found active (409).
        refusals = {r.json()["code"] for r in responses if r.status_code != 200}
        assert refusals <= {
            "invalid_mfa_code",
            "insufficient_user_authentication",
            "totp_already_enabled",
        }
        winner = next(r for r in responses if r.status_code == 200)
        digests = {row["digest"] for row in await rows(settings, "recovery_codes")}
        assert len(digests) == 10  # one set: the winner's
        token = await password_step(client)
        codes = winner.json()["recovery_codes"]
        recovery = await second_step(client, token, recovery_code=codes[0])
        assert recovery.status_code == 200


async def test_new_recovery_codes_need_a_current_code_and_the_old_set_dies(client, clock):
    device = await sign_up(client, verified=True)
    enabled = await enable_totp(client, device, clock)
    device = enabled.device  # aal2 now

    wrong = await client.post(
        "/auth/mfa/recovery-codes", json={"code": "000000"}, headers=device.headers
    )
    assert_problem(wrong, 401, "invalid_mfa_code")
    replay = await client.post(
        "/auth/mfa/recovery-codes", json={"code": enabled.app.code()}, headers=device.headers
    )
    assert_problem(replay, 401, "invalid_mfa_code")  # the confirming code was spent

    response = await client.post(
        "/auth/mfa/recovery-codes", json={"code": enabled.app.next_code()}, headers=device.headers
    )
    assert response.status_code == 200, response.text
    fresh = response.json()["recovery_codes"]
    assert len(fresh) == 10
    assert not set(fresh) & set(enabled.recovery_codes)

    old = await second_step(
        client, await password_step(client), recovery_code=enabled.recovery_codes[0]
    )
    assert_problem(old, 401, "invalid_mfa_code")
    new = await second_step(client, await password_step(client), recovery_code=fresh[0])
    assert new.status_code == 200


async def test_recovery_codes_without_an_app_are_409(client, clock):
    device = await sign_up(client, verified=True)
    response = await client.post(
        "/auth/mfa/recovery-codes", json={"code": "123456"}, headers=device.headers
    )
    assert_problem(response, 409, "totp_not_enabled")


async def test_removing_the_app_with_the_password_brings_back_the_one_step_sign_in(
    client, clock, settings: Settings
):
    device = await sign_up(client, verified=True)
    device = (await enable_totp(client, device, clock)).device  # aal2 now

    wrong = await client.request(
        "DELETE", "/auth/mfa/totp", json={"password": "not the password"}, headers=device.headers
    )
    assert_problem(wrong, 401, "invalid_credentials")
    await password_step(client)

    response = await client.request(
        "DELETE", "/auth/mfa/totp", json={"password": PASSWORD}, headers=device.headers
    )
    assert response.status_code == 204, response.text
    await sign_in(client)
    assert await rows(settings, "totp_credentials") == []
    assert await rows(settings, "recovery_codes") == []
    again = await client.request(
        "DELETE", "/auth/mfa/totp", json={"password": PASSWORD}, headers=device.headers
    )
    assert_problem(again, 409, "totp_not_enabled")


async def test_removing_the_app_with_a_current_code(client, clock):
    device = await sign_up(client, verified=True)
    enabled = await enable_totp(client, device, clock)
    device = enabled.device  # aal2 now

    spent = await client.request(
        "DELETE", "/auth/mfa/totp", json={"code": enabled.app.code()}, headers=device.headers
    )
    assert_problem(spent, 401, "invalid_mfa_code")
    response = await client.request(
        "DELETE", "/auth/mfa/totp", json={"code": enabled.app.next_code()}, headers=device.headers
    )
    assert response.status_code == 204
    await sign_in(client)


async def test_the_secret_is_sealed_at_rest_and_recovery_codes_are_digests(
    client, clock, settings: Settings
):
    device = await sign_up(client, verified=True)
    enabled = await enable_totp(client, device, clock)
    device = enabled.device  # aal2 now

    (credential,) = await rows(settings, "totp_credentials")
    assert enabled.app.secret not in credential["secret_sealed"]
    assert credential["secret_sealed"].startswith("v1.")
    stored = {row["digest"] for row in await rows(settings, "recovery_codes")}
    assert len(stored) == 10
    for code in enabled.recovery_codes:
        assert code not in stored
        assert code.replace("-", "") not in stored


async def test_the_secret_and_codes_never_reach_the_logs(
    client, clock, caplog: pytest.LogCaptureFixture
):
    with caplog.at_level(logging.DEBUG):
        device = await sign_up(client, verified=True)
        enabled = await enable_totp(client, device, clock)
        device = enabled.device  # aal2 now
        token = await password_step(client)
        await second_step(client, token, code=enabled.app.next_code())
        token = await password_step(client)
        await second_step(client, token, recovery_code=enabled.recovery_codes[0])
    text = "\n".join(f"{r.getMessage()} {getattr(r, 'fields', '')}" for r in caplog.records)
    assert enabled.app.secret not in text
    assert token not in text
    for code in enabled.recovery_codes:
        assert code not in text
    events = [r.getMessage() for r in caplog.records if r.name == "authgate.audit"]
    assert {"mfa_enabled", "recovery_code_used", "login_succeeded"} <= set(events)


async def test_an_account_of_another_user_is_untouched(client: Any, clock: FakeClock):
    ada = await sign_up(client, "ada@site.com", verified=True)
    await sign_up(client, "bob@site.com", verified=True)
    ada = (await enable_totp(client, ada, clock)).device  # aal2 now
    await sign_in(client, "bob@site.com")
