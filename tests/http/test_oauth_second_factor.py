"""An identity provider's sign-in into an account with a second factor stops at the same gate
as a password: no session, the browser sent to the app with ``?mfa=required`` and the
``mfa_token`` in an ``mfa_pending`` cookie, which the second step takes."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import replace
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx

from infrastructure.config import Settings
from tests.fakes.clock import FakeClock
from tests.http.admin_helpers import count_rows
from tests.http.helpers import (
    assert_problem,
    assert_refresh_cookie,
    bearer,
    jwt_parts,
    no_refresh_cookie,
    set_cookies,
    sign_up,
    the_refresh_cookie,
)
from tests.http.mfa_helpers import App, enable_totp
from tests.http.test_oauth import (
    ADA,
    APP_URL,
    Client,
    browser,
    come_back,
    google,
    idp,
    sign_in_with_google,
    signed_in_user,
    with_google,
)
from tests.servers.oidc import OMIT, FakeOidcProvider

__all__ = ["browser", "idp", "with_google"]  # fixtures


async def ada_with_an_app(app: Client, clock: FakeClock) -> App:
    """Ada's account has a password and an authenticator app; her browser holds no session."""
    device = await sign_up(app, ADA, verified=True)
    enabled = await enable_totp(app, device, clock)
    app.cookies.clear()
    return enabled.app


def pending_cookie(answer: httpx.Response) -> Any:
    [cookie] = [c for c in set_cookies(answer) if c.name == "mfa_pending"]
    return cookie


def trusting_google(
    with_google: Callable[..., Client], idp: FakeOidcProvider, *, trust: bool
) -> Client:
    return with_google(oidc_providers=(replace(google(idp), trust_amr=trust),))


async def test_a_provider_sign_in_into_an_account_with_an_app_starts_no_session(
    with_google: Callable[..., Client], browser: httpx.AsyncClient, clock: FakeClock
) -> None:
    async with with_google() as app:
        await ada_with_an_app(app, clock)

        answer = await sign_in_with_google(app, browser)

        assert answer.status_code == 302, answer.text
        assert answer.headers["location"] == f"{APP_URL}/dashboard?mfa=required"
        assert no_refresh_cookie(answer)
        cookie = pending_cookie(answer)
        assert len(cookie.value) >= 43
        assert cookie.value not in answer.headers["location"]
        assert cookie.attributes["path"] == "/auth/login/mfa"
        assert cookie.attributes["max-age"] == "300"
        assert cookie.attributes["samesite"] == "lax"
        assert "httponly" in cookie.attributes
        assert "secure" in cookie.attributes
        assert_problem(await app.post("/auth/refresh"), 401, "invalid_refresh_token")


async def test_the_second_step_takes_the_pending_cookie_and_signs_in(
    with_google: Callable[..., Client], browser: httpx.AsyncClient, clock: FakeClock
) -> None:
    async with with_google() as app:
        authenticator = await ada_with_an_app(app, clock)
        await sign_in_with_google(app, browser)

        answer = await app.post("/auth/login/mfa", json={"code": authenticator.next_code()})

        assert answer.status_code == 200, answer.text
        assert_refresh_cookie(the_refresh_cookie(answer))
        cleared = pending_cookie(answer)
        assert (cleared.value, cleared.attributes["max-age"]) == ("", "0")
        stated = jwt_parts(answer.json()["access_token"])[1]
        assert (stated["amr"], stated["acr"]) == (["fed", "otp", "mfa"], "aal2")
        assert (await signed_in_user(app))["email"] == ADA


async def test_without_a_token_in_body_or_cookie_the_second_step_refuses(client: Client) -> None:
    answer = await client.post("/auth/login/mfa", json={"code": "123456"})
    assert_problem(answer, 401, "invalid_mfa_token")


async def test_a_provider_trusted_for_mfa_whose_amr_says_so_signs_in_directly(
    with_google: Callable[..., Client],
    idp: FakeOidcProvider,
    browser: httpx.AsyncClient,
    clock: FakeClock,
) -> None:
    idp.claims = {"amr": ["pwd", "mfa"]}
    async with trusting_google(with_google, idp, trust=True) as app:
        await ada_with_an_app(app, clock)

        answer = await sign_in_with_google(app, browser)

        assert answer.headers["location"] == f"{APP_URL}/dashboard"
        assert_refresh_cookie(the_refresh_cookie(answer))
        assert not [c for c in set_cookies(answer) if c.name == "mfa_pending"]
        refreshed = await app.post("/auth/refresh")
        stated = jwt_parts(refreshed.json()["access_token"])[1]
        assert (stated["amr"], stated["acr"]) == (["fed", "mfa"], "aal2")


async def test_a_provider_sign_in_states_fed_and_aal1(
    with_google: Callable[..., Client], browser: httpx.AsyncClient
) -> None:
    async with with_google() as app:
        answer = await sign_in_with_google(app, browser)

        assert answer.status_code == 302, answer.text
        refreshed = await app.post("/auth/refresh")
        stated = jwt_parts(refreshed.json()["access_token"])[1]
        assert (stated["amr"], stated["acr"]) == (["fed"], "aal1")


async def test_an_untrusted_providers_amr_does_not_stand_for_the_second_factor(
    with_google: Callable[..., Client],
    idp: FakeOidcProvider,
    browser: httpx.AsyncClient,
    clock: FakeClock,
) -> None:
    idp.claims = {"amr": ["pwd", "mfa"]}
    async with trusting_google(with_google, idp, trust=False) as app:
        await ada_with_an_app(app, clock)

        answer = await sign_in_with_google(app, browser)

        assert answer.headers["location"] == f"{APP_URL}/dashboard?mfa=required"
        assert no_refresh_cookie(answer)


async def test_without_an_app_url_the_callback_answers_mfa_required_like_a_password(
    with_google: Callable[..., Client], browser: httpx.AsyncClient, clock: FakeClock
) -> None:
    async with with_google(app_url=None) as app:
        await ada_with_an_app(app, clock)

        answer = await sign_in_with_google(app, browser)

        body = assert_problem(answer, 401, "mfa_required")
        assert body["methods"] == ["totp", "recovery_code"]
        assert no_refresh_cookie(answer)


A_MONTH = 30 * 86400


async def test_a_silent_provider_sign_in_on_a_month_old_login_passes_no_step_up(
    with_google: Callable[..., Client], idp: FakeOidcProvider, browser: httpx.AsyncClient
) -> None:
    """The provider signed the user in a month ago and says so (``auth_time``); its silent
    sign-in now is no recent proof: a sensitive action asks for one (RFC 9470)."""
    idp.claims = {"auth_time": int(time.time()) - A_MONTH}
    async with with_google() as app:
        await sign_in_with_google(app, browser)
        token = (await app.post("/auth/refresh")).json()["access_token"]

        assert jwt_parts(token)[1]["auth_time"] <= int(time.time()) - A_MONTH + 60
        setup = await app.post("/auth/mfa/totp/setup", headers=bearer(token))
        assert_problem(setup, 401, "insufficient_user_authentication")


async def test_a_provider_login_a_minute_old_is_a_recent_proof(
    with_google: Callable[..., Client], idp: FakeOidcProvider, browser: httpx.AsyncClient
) -> None:
    """The other side: a provider that says the user just signed in there gives a session
    that passes step-up, and a time in the future counts as now."""
    for auth_time in (int(time.time()) - 60, int(time.time()) + 3600):
        idp.claims = {"auth_time": auth_time}
        async with with_google() as app:
            await sign_in_with_google(app, browser)
            token = (await app.post("/auth/refresh")).json()["access_token"]

            assert jwt_parts(token)[1]["auth_time"] <= int(time.time())
            setup = await app.post("/auth/mfa/totp/setup", headers=bearer(token))
            assert setup.status_code == 200, setup.text


async def test_a_sign_in_asked_with_max_age_is_a_fresh_proof_at_a_provider_that_says_auth_time(
    with_google: Callable[..., Client], idp: FakeOidcProvider, browser: httpx.AsyncClient
) -> None:
    """An account with no password nor passkey steps up through its provider: the start
    asks for ``max_age`` (OpenID Connect Core §3.1.2.1), the provider signs the user in
    again there, and says when; the new session passes step-up. Without it, a provider that
    names a month-old sign-in left such an account no way to a recent proof."""
    idp.claims = {"auth_time": int(time.time()) - A_MONTH}
    async with with_google() as app:
        await sign_in_with_google(app, browser)
        stale = (await app.post("/auth/refresh")).json()["access_token"]
        setup = await app.post("/auth/mfa/totp/setup", headers=bearer(stale))
        assert_problem(setup, 401, "insufficient_user_authentication")
        idp.claims = {}
        idp.signed_in_at = time.time() - A_MONTH

        started = await app.get("/auth/google/start", params={"max_age": 300})
        assert started.status_code == 302, started.text
        assert parse_qs(urlsplit(started.headers["location"]).query)["max_age"] == ["300"]
        answer = await app.get(await come_back(browser, started.headers["location"]))

        assert answer.status_code == 302, answer.text
        fresh = (await app.post("/auth/refresh")).json()["access_token"]
        assert jwt_parts(fresh)[1]["auth_time"] >= int(time.time()) - 60
        setup = await app.post("/auth/mfa/totp/setup", headers=bearer(fresh))
        assert setup.status_code == 200, setup.text


async def test_a_provider_that_ignores_max_age_signs_nobody_in(
    with_google: Callable[..., Client], idp: FakeOidcProvider, browser: httpx.AsyncClient
) -> None:
    """Asked with max_age, an ID token without auth_time shows no recent proof: refused,
    rather than taken as a sign-in made now."""
    idp.claims = {"auth_time": OMIT}
    async with with_google() as app:
        started = await app.get("/auth/google/start", params={"max_age": 0})
        answer = await app.get(await come_back(browser, started.headers["location"]))

        assert_problem(answer, 400, "auth_time_missing")  # the refusal's own code
        assert no_refresh_cookie(answer)


async def test_a_max_age_that_is_no_number_of_seconds_is_refused(
    with_google: Callable[..., Client], idp: FakeOidcProvider
) -> None:
    async with with_google() as app:
        for bad in ("-1", "soon", "1.5", str(400 * 86400)):
            answer = await app.get("/auth/google/start", params={"max_age": bad})
            assert_problem(answer, 422, "validation_failed")
        assert idp.authorizations == []


async def test_a_trusted_providers_month_old_second_factor_is_no_recent_proof(
    with_google: Callable[..., Client],
    idp: FakeOidcProvider,
    browser: httpx.AsyncClient,
    clock: FakeClock,
) -> None:
    idp.claims = {"amr": ["pwd", "mfa"], "auth_time": int(time.time()) - A_MONTH}
    async with trusting_google(with_google, idp, trust=True) as app:
        await ada_with_an_app(app, clock)
        await sign_in_with_google(app, browser)
        token = (await app.post("/auth/refresh")).json()["access_token"]

        moved = await app.post(
            "/auth/email/change/request",
            json={"email": "mallory@example.test"},
            headers=bearer(token),
        )
        assert_problem(moved, 401, "insufficient_user_authentication")
        assert_problem(
            await app.get("/auth/account/export", headers=bearer(token)),
            401,
            "insufficient_user_authentication",
        )


async def test_the_identity_is_linked_only_once_the_second_step_is_passed(
    with_google: Callable[..., Client],
    browser: httpx.AsyncClient,
    clock: FakeClock,
    settings: Settings,
) -> None:
    """A provider account with the account's verified address that never gives the app's
    code keeps nothing: no identity that would let it in by itself later."""
    async with with_google() as app:
        authenticator = await ada_with_an_app(app, clock)
        user_id = 1  # Ada's, the first account
        answer = await sign_in_with_google(app, browser)
        assert answer.headers["location"].endswith("mfa=required")
        assert await count_rows(settings, "user_identities", user_id) == 0

        passed = await app.post("/auth/login/mfa", json={"code": authenticator.next_code()})

        assert passed.status_code == 200, passed.text
        assert passed.json()["user"]["id"] == user_id
        assert await count_rows(settings, "user_identities", user_id) == 1
