"""Step-up (RFC 9470) and the assurance every access token states (API.md, "Assurance and
step-up"): each sensitive action is refused without a recent proof, accepted right after
``POST /auth/reauthenticate``, and refused again once ``AUTH_REAUTH_MAX_AGE`` has passed."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import pytest

from tests.fakes.authenticator import SoftAuthenticator
from tests.fakes.clock import FakeClock
from tests.http.helpers import (
    PASSWORD,
    Device,
    assert_problem,
    jwt_parts,
    refresh_with,
    sign_in,
    sign_up,
    the_refresh_cookie,
)
from tests.http.mfa_helpers import (
    App,
    enable_totp,
    password_step,
    reauthenticate,
    reauthenticate_with_passkey,
    second_step,
)

Client = Any
BASE_URL = "https://testserver.local"
MAX_AGE = 300  # AUTH_REAUTH_MAX_AGE's default
TOO_OLD = MAX_AGE + 1


def claims(access_token: str) -> dict[str, Any]:
    return jwt_parts(access_token)[1]


def assert_step_up(response: Any, *, aal2: bool = False) -> None:
    body = assert_problem(response, 401, "insufficient_user_authentication")
    challenge = response.headers["www-authenticate"]
    assert challenge.startswith('Bearer error="insufficient_user_authentication"')
    assert f"max_age={MAX_AGE}" in challenge
    assert body["max_age"] == MAX_AGE
    assert ('acr_values="aal2"' in challenge) is aal2
    assert body.get("acr_values") == ("aal2" if aal2 else None)


async def add_passkey(client: Client, device: Device, authenticator: SoftAuthenticator) -> Any:
    options = await client.post("/auth/passkeys/register/options", headers=device.headers)
    if options.status_code != 200:
        return options
    return await client.post(
        "/auth/passkeys/register/verify",
        json={"credential": authenticator.create(options.json())},
        headers=device.headers,
    )


# --- The claims of each way in ----------------------------------------------------------------


async def test_a_password_sign_in_states_pwd_aal1_and_when(client: Client, clock: FakeClock):
    device = await sign_up(client, verified=True)
    stated = claims(device.access_token)
    assert stated["amr"] == ["pwd"]
    assert stated["acr"] == "aal1"
    assert stated["auth_time"] == int(clock.now().timestamp())


async def test_password_and_app_or_recovery_code_state_aal2(client: Client, clock: FakeClock):
    enabled = await enable_totp(client, await sign_up(client, verified=True), clock)

    with_app = await second_step(client, await password_step(client), code=enabled.app.next_code())
    with_code = await second_step(
        client, await password_step(client), recovery_code=enabled.recovery_codes[0]
    )

    assert claims(with_app.json()["access_token"])["amr"] == ["pwd", "otp", "mfa"]
    assert claims(with_app.json()["access_token"])["acr"] == "aal2"
    assert claims(with_code.json()["access_token"])["amr"] == ["pwd", "rec", "mfa"]
    assert claims(with_code.json()["access_token"])["acr"] == "aal2"


async def test_a_passkey_sign_in_states_hwk_user_mfa(client: Client):
    device = await sign_up(client, verified=True)
    authenticator = SoftAuthenticator(BASE_URL)
    assert (await add_passkey(client, device, authenticator)).status_code == 201
    options = await client.post("/auth/passkeys/login/options")
    response = await client.post(
        "/auth/passkeys/login/verify", json={"credential": authenticator.get(options.json())}
    )
    assert response.status_code == 200, response.text
    stated = claims(response.json()["access_token"])
    assert stated["amr"] == ["hwk", "user", "mfa"]
    assert stated["acr"] == "aal2"


async def test_a_refresh_keeps_auth_time_and_amr_it_is_no_new_authentication(
    client: Client, clock: FakeClock
):
    device = await sign_up(client, verified=True)
    signed_in_at = claims(device.access_token)["auth_time"]
    clock.advance(600)

    refreshed = await refresh_with(client, device.refresh_token)

    assert refreshed.status_code == 200, refreshed.text
    stated = claims(refreshed.json()["access_token"])
    assert stated["auth_time"] == signed_in_at
    assert stated["amr"] == ["pwd"]
    assert stated["iat"] == signed_in_at + 600


# --- The attack: a stolen session cannot mint a fresh proof --------------------------------------


async def test_a_stolen_refresh_token_mints_access_tokens_but_cannot_add_a_factor(
    client: Client, clock: FakeClock
):
    """Whoever holds a session's refresh token (or an access token of it) gets fresh access
    tokens, but not a fresh proof: nothing that outlives the session can be planted."""
    owner = await sign_up(client, verified=True)
    clock.advance(TOO_OLD)
    refreshed = await refresh_with(client, owner.refresh_token)
    stolen = Device(refreshed.json()["access_token"], the_refresh_cookie(refreshed).value, {})

    assert_step_up(await client.post("/auth/mfa/totp/setup", headers=stolen.headers))
    assert_step_up(await add_passkey(client, stolen, SoftAuthenticator(BASE_URL)))
    wrong = await client.post(
        "/auth/reauthenticate", json={"password": "a guess"}, headers=stolen.headers
    )
    assert_problem(wrong, 401, "invalid_credentials")
    assert_step_up(await client.post("/auth/mfa/totp/setup", headers=stolen.headers))


# --- Every sensitive action ---------------------------------------------------------------------


@dataclass
class Account:
    device: Device
    app: App | None = None
    authenticator: SoftAuthenticator | None = None
    extra: dict[str, Any] | None = None

    async def prove(self, client: Client) -> None:
        """``POST /auth/reauthenticate`` with what this account has."""
        if self.authenticator is not None:
            self.device = await reauthenticate_with_passkey(client, self.device, self.authenticator)
        elif self.app is not None:
            self.device = await reauthenticate(
                client, self.device, password=PASSWORD, code=self.app.next_code()
            )
        else:
            self.device = await reauthenticate(client, self.device, password=PASSWORD)


Prepare = Callable[[Client, FakeClock], Awaitable[Account]]
Act = Callable[[Client, Account], Awaitable[Any]]


async def plain(client: Client, clock: FakeClock) -> Account:
    return Account(await sign_up(client, verified=True))


async def with_app(client: Client, clock: FakeClock) -> Account:
    enabled = await enable_totp(client, await sign_up(client, verified=True), clock)
    return Account(enabled.device, app=enabled.app)


async def with_pending_app(client: Client, clock: FakeClock) -> Account:
    account = await plain(client, clock)
    setup = await client.post("/auth/mfa/totp/setup", headers=account.device.headers)
    account.extra = {"pending": App(setup.json()["secret"], clock)}
    return account


async def with_passkey(client: Client, clock: FakeClock) -> Account:
    account = await plain(client, clock)
    authenticator = SoftAuthenticator(BASE_URL)
    added = await add_passkey(client, account.device, authenticator)
    account.authenticator = authenticator
    account.extra = {"passkey_id": added.json()["passkey"]["id"]}
    return account


async def setup_app(client: Client, account: Account) -> Any:
    return await client.post("/auth/mfa/totp/setup", headers=account.device.headers)


async def confirm_app(client: Client, account: Account) -> Any:
    assert account.extra is not None
    code = account.extra["pending"].next_code()
    return await client.post(
        "/auth/mfa/totp/confirm", json={"code": code}, headers=account.device.headers
    )


async def new_recovery_codes(client: Client, account: Account) -> Any:
    assert account.app is not None
    code = account.app.next_code()
    return await client.post(
        "/auth/mfa/recovery-codes", json={"code": code}, headers=account.device.headers
    )


async def remove_app(client: Client, account: Account) -> Any:
    assert account.app is not None
    code = account.app.next_code()
    return await client.request(
        "DELETE", "/auth/mfa/totp", json={"code": code}, headers=account.device.headers
    )


async def start_passkey(client: Client, account: Account) -> Any:
    return await client.post("/auth/passkeys/register/options", headers=account.device.headers)


async def remove_passkey(client: Client, account: Account) -> Any:
    assert account.extra is not None
    return await client.delete(
        f"/auth/passkeys/{account.extra['passkey_id']}", headers=account.device.headers
    )


async def change_password(client: Client, account: Account) -> Any:
    body = {"current_password": PASSWORD, "new_password": PASSWORD}
    return await client.post("/auth/password/change", json=body, headers=account.device.headers)


async def export_account(client: Client, account: Account) -> Any:
    return await client.get("/auth/account/export", headers=account.device.headers)


async def delete_account(client: Client, account: Account) -> Any:
    return await client.delete("/auth/account", headers=account.device.headers)


SENSITIVE: list[tuple[str, Prepare, Act, int]] = [
    ("set up the app", plain, setup_app, 200),
    ("confirm the app", with_pending_app, confirm_app, 200),
    ("new recovery codes", with_app, new_recovery_codes, 200),
    ("remove the app", with_app, remove_app, 204),
    ("add a passkey", plain, start_passkey, 200),
    ("add a second passkey", with_passkey, start_passkey, 200),
    ("remove a passkey", with_passkey, remove_passkey, 204),
    ("change the password", plain, change_password, 204),
    ("change the password with an app", with_app, change_password, 204),
    ("export the account", plain, export_account, 200),
    ("export the account with an app", with_app, export_account, 200),
]


@pytest.mark.parametrize(
    ("prepare", "act", "status"),
    [pytest.param(p, a, s, id=name) for name, p, a, s in SENSITIVE],
)
async def test_a_sensitive_action_needs_a_proof_younger_than_the_max_age(
    client: Client, clock: FakeClock, prepare: Prepare, act: Act, status: int
):
    account = await prepare(client, clock)
    clock.advance(TOO_OLD)
    assert_step_up(await act(client, account))

    await account.prove(client)
    accepted = await act(client, account)
    assert accepted.status_code == status, accepted.text

    clock.advance(TOO_OLD)
    assert_step_up(await act(client, account))


async def test_deleting_the_account_needs_a_recent_two_factor_proof_when_it_has_one(
    client: Client, clock: FakeClock
):
    account = await with_passkey(client, clock)
    clock.advance(TOO_OLD)
    assert_step_up(await delete_account(client, account))
    account.device = await reauthenticate(client, account.device, password=PASSWORD)
    assert_step_up(await delete_account(client, account), aal2=True)

    await account.prove(client)
    deleted = await delete_account(client, account)

    assert deleted.status_code == 204, deleted.text


async def test_with_a_second_factor_a_recent_password_alone_is_not_enough(client: Client):
    """aal2 when the account has any second factor: a password-only session, however fresh,
    may not add or remove one."""
    device = await sign_up(client, verified=True)
    authenticator = SoftAuthenticator(BASE_URL)
    first = await add_passkey(client, device, authenticator)
    assert first.status_code == 201, first.text

    assert_step_up(await add_passkey(client, device, SoftAuthenticator(BASE_URL)), aal2=True)
    device = await reauthenticate(client, device, password=PASSWORD)
    assert claims(device.access_token)["acr"] == "aal1"
    assert_step_up(
        await client.delete(
            f"/auth/passkeys/{first.json()['passkey']['id']}", headers=device.headers
        ),
        aal2=True,
    )

    device = await reauthenticate_with_passkey(client, device, authenticator)
    assert claims(device.access_token)["acr"] == "aal2"
    removed = await client.delete(
        f"/auth/passkeys/{first.json()['passkey']['id']}", headers=device.headers
    )
    assert removed.status_code == 204


async def test_confirming_the_app_makes_the_callers_session_aal2(client: Client, clock: FakeClock):
    device = await sign_up(client, verified=True)
    setup = await client.post("/auth/mfa/totp/setup", headers=device.headers)
    app = App(setup.json()["secret"], clock)

    confirmed = await client.post(
        "/auth/mfa/totp/confirm", json={"code": app.code()}, headers=device.headers
    )

    assert confirmed.status_code == 200, confirmed.text
    stated = claims(confirmed.json()["access_token"])
    assert stated["sid"] == claims(device.access_token)["sid"]
    assert stated["amr"] == ["pwd", "otp", "mfa"]
    assert stated["acr"] == "aal2"
    codes = await client.post(
        "/auth/mfa/recovery-codes",
        json={"code": app.next_code()},
        headers={"Authorization": f"Bearer {confirmed.json()['access_token']}"},
    )
    assert codes.status_code == 200, codes.text
    # The session's grant carries it: a refresh keeps aal2.
    refreshed = await refresh_with(client, device.refresh_token)
    assert claims(refreshed.json()["access_token"])["amr"] == ["pwd", "otp", "mfa"]


# --- POST /auth/reauthenticate --------------------------------------------------------------------


async def test_reauthenticating_keeps_the_session_and_moves_its_auth_time(
    client: Client, clock: FakeClock
):
    device = await sign_up(client, verified=True)
    before = claims(device.access_token)
    clock.advance(TOO_OLD)

    response = await client.post(
        "/auth/reauthenticate", json={"password": PASSWORD}, headers=device.headers
    )

    assert response.status_code == 200, response.text
    assert response.headers["cache-control"] == "no-store"
    body = response.json()
    assert body["token_type"] == "Bearer"
    assert body["expires_in"] == 900
    assert body["amr"] == ["pwd"]
    assert body["acr"] == "aal1"
    assert body["auth_time"] == before["auth_time"] + TOO_OLD
    stated = claims(body["access_token"])
    assert stated["sid"] == before["sid"]
    assert stated["auth_time"] == body["auth_time"]
    sessions = await client.get("/auth/sessions", headers=device.headers)
    assert len(sessions.json()["sessions"]) == 1  # no new session
    refreshed = await refresh_with(client, device.refresh_token)
    assert claims(refreshed.json()["access_token"])["auth_time"] == body["auth_time"]


@pytest.mark.parametrize("field", ["code", "recovery_code"])
async def test_a_second_code_for_an_account_without_an_app_names_the_field_it_came_in(
    client: Client, field: str
):
    device = await sign_up(client, verified=True)
    sent = "123456" if field == "code" else "abcde-fghjk"

    response = await client.post(
        "/auth/reauthenticate", json={"password": PASSWORD, field: sent}, headers=device.headers
    )

    assert_problem(response, 422, "validation_failed")
    assert [e["field"] for e in response.json()["errors"]] == [field]


async def test_an_account_with_an_app_reauthenticates_with_password_and_code(
    client: Client, clock: FakeClock
):
    enabled = await enable_totp(client, await sign_up(client, verified=True), clock)
    device = enabled.device

    no_code = await client.post(
        "/auth/reauthenticate", json={"password": PASSWORD}, headers=device.headers
    )
    assert_problem(no_code, 422, "validation_failed")
    wrong = await client.post(
        "/auth/reauthenticate",
        json={"password": PASSWORD, "code": "000000"},
        headers=device.headers,
    )
    assert_problem(wrong, 401, "invalid_mfa_code")
    with_code = await reauthenticate(
        client, device, password=PASSWORD, recovery_code=enabled.recovery_codes[0]
    )
    assert claims(with_code.access_token)["amr"] == ["pwd", "rec", "mfa"]
    spent = await client.post(
        "/auth/reauthenticate",
        json={"password": PASSWORD, "recovery_code": enabled.recovery_codes[0]},
        headers=device.headers,
    )
    assert_problem(spent, 401, "invalid_mfa_code")


@pytest.mark.parametrize(
    "body",
    [
        {},
        {"password": PASSWORD, "credential": {"id": "x"}},
        {"password": PASSWORD, "code": "123456", "recovery_code": "abcde-fghij"},
        {"password": PASSWORD, "code": "12"},
        {"password": 42},
        {"code": "123456"},
    ],
    ids=["empty", "both-proofs", "both-codes", "short-code", "not-a-string", "code-alone"],
)
async def test_a_malformed_proof_gets_a_problem(client: Client, body: dict[str, Any]):
    device = await sign_up(client, verified=True)
    response = await client.post("/auth/reauthenticate", json=body, headers=device.headers)
    assert response.status_code in (400, 422), response.text
    assert response.headers["content-type"].startswith("application/problem+json")


async def test_wrong_passwords_count_against_the_login_limits(client: Client):
    device = await sign_up(client, verified=True)
    statuses = [
        (
            await client.post(
                "/auth/reauthenticate", json={"password": "wrong"}, headers=device.headers
            )
        ).status_code
        for _ in range(11)
    ]
    assert statuses[:10] == [401] * 10
    assert statuses[10] == 429


async def test_someone_elses_passkey_proves_nothing(client: Client):
    ada = await sign_up(client, "ada@site.com", verified=True)
    bob = await sign_up(client, "bob@site.com", verified=True)
    bobs = SoftAuthenticator(BASE_URL)
    assert (await add_passkey(client, bob, bobs)).status_code == 201

    options = await client.post("/auth/passkeys/reauthenticate/options", headers=ada.headers)
    response = await client.post(
        "/auth/reauthenticate",
        json={"credential": bobs.get(options.json())},
        headers=ada.headers,
    )

    assert_problem(response, 401, "invalid_passkey")


async def test_a_session_that_ended_cannot_be_reauthenticated(client: Client):
    device = await sign_up(client, verified=True)
    other = await sign_in(client)
    await client.post("/auth/revoke", json={"keep_current": True}, headers=other.headers)

    response = await client.post(
        "/auth/reauthenticate", json={"password": PASSWORD}, headers=device.headers
    )

    assert_problem(response, 401, "invalid_token")


async def test_a_replayed_passkey_proof_is_refused(client: Client):
    """A re-authentication's challenge answers once: a captured assertion sent again (or to
    another session's re-authentication) proves nothing."""
    device = await sign_up(client, verified=True)
    authenticator = SoftAuthenticator(BASE_URL)
    assert (await add_passkey(client, device, authenticator)).status_code == 201
    options = await client.post("/auth/passkeys/reauthenticate/options", headers=device.headers)
    assertion = authenticator.get(options.json())

    first = await client.post(
        "/auth/reauthenticate", json={"credential": assertion}, headers=device.headers
    )
    again = await client.post(
        "/auth/reauthenticate", json={"credential": assertion}, headers=device.headers
    )

    assert first.status_code == 200, first.text
    assert_problem(again, 401, "invalid_passkey")


async def test_a_sign_in_challenge_does_not_prove_a_reauthentication(client: Client):
    """The sign-in's challenges and the re-authentication's are kept apart: an assertion made
    for a sign-in (a phished one, say) cannot stand in for the caller's proof."""
    device = await sign_up(client, verified=True)
    authenticator = SoftAuthenticator(BASE_URL)
    assert (await add_passkey(client, device, authenticator)).status_code == 201
    sign_in_options = await client.post("/auth/passkeys/login/options")

    answer = await client.post(
        "/auth/reauthenticate",
        json={"credential": authenticator.get(sign_in_options.json())},
        headers=device.headers,
    )

    assert_problem(answer, 401, "invalid_passkey")
