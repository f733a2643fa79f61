"""Sign-in with Google (any OpenID Connect provider), through the real redirects: our app,
then the fake provider on loopback (tests/servers/oidc.py), then our callback."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator, Callable, Iterator
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
from litestar.testing import AsyncTestClient

from infrastructure.config import OidcSettings, Settings
from tests.fakes.clock import FakeClock
from tests.http.admin_helpers import an_admin
from tests.http.helpers import (
    BASE_URL,
    PASSWORD,
    assert_access_rejected,
    assert_problem,
    assert_refresh_cookie,
    assert_token_body,
    bearer,
    login,
    no_refresh_cookie,
    refresh_with,
    register,
    set_cookies,
    sign_up,
    the_refresh_cookie,
)
from tests.servers.oidc import FakeOidcProvider, FakeProfile
from tests.servers.smtp import SmtpSink, link_token

Client = AsyncTestClient[Any]
REDIRECT_URI = f"{BASE_URL}/auth/google/callback"
APP_URL = "https://app.example"
ADA = "ada@example.test"


@pytest.fixture
def idp() -> Iterator[FakeOidcProvider]:
    with FakeOidcProvider(redirect_uri=REDIRECT_URI) as fake:
        yield fake


@pytest.fixture(scope="module")
async def browser() -> AsyncIterator[httpx.AsyncClient]:
    """The browser's trip to the provider (which our test client cannot reach)."""
    async with httpx.AsyncClient(trust_env=False) as client:
        yield client


def google(idp: FakeOidcProvider) -> OidcSettings:
    return OidcSettings(
        name="google",
        client_id=idp.client_id,
        client_secret=idp.client_secret,
        redirect_uri=REDIRECT_URI,
        discovery_url=idp.discovery_url,
    )


@pytest.fixture
def with_google(make_client: Callable[..., Client], idp: FakeOidcProvider) -> Callable[..., Client]:
    def make(**changes: Any) -> Client:
        settings = {
            "oidc_providers": (google(idp),),
            "app_url": APP_URL,
            "return_to_allowlist": ("/dashboard",),
        }
        client = make_client(**(settings | changes))
        client.follow_redirects = False  # each redirect is a step the test takes itself
        return client

    return make


@pytest.fixture
async def app(with_google: Callable[..., Client]) -> AsyncIterator[Client]:
    async with with_google() as client:
        yield client


async def go_to_provider(app: Client, return_to: str | None = "/dashboard") -> str:
    params = {"return_to": return_to} if return_to is not None else {}
    answer = await app.get("/auth/google/start", params=params)
    assert answer.status_code == 302, answer.text
    return str(answer.headers["location"])


async def come_back(browser: httpx.AsyncClient, authorization_url: str) -> str:
    """Follow the one redirect to the provider; the path and query it sends us back to."""
    answer = await browser.get(authorization_url)
    assert answer.status_code == 302, answer.text
    back = urlsplit(answer.headers["location"])
    assert back._replace(query="").geturl() == REDIRECT_URI
    return f"{back.path}?{back.query}"


async def sign_in_with_google(
    app: Client, browser: httpx.AsyncClient, return_to: str | None = "/dashboard"
) -> httpx.Response:
    callback = await come_back(browser, await go_to_provider(app, return_to))
    return await app.get(callback)


async def signed_in_user(app: Client) -> dict[str, Any]:
    """The app's next steps after the redirect: refresh with the cookie, then /auth/me."""
    refreshed = await app.post("/auth/refresh")
    assert refreshed.status_code == 200, refreshed.text
    me = await app.get("/auth/me", headers=bearer(refreshed.json()["access_token"]))
    assert me.status_code == 200, me.text
    user: dict[str, Any] = me.json()["user"]
    return user


def no_state_cookie(answer: httpx.Response) -> bool:
    return not [c for c in set_cookies(answer) if c.name == "oauth_state"]


def assert_landed_on_the_app(answer: httpx.Response, path: str = "/dashboard") -> None:
    assert answer.status_code == 302, answer.text
    assert answer.headers["location"] == APP_URL + path
    assert answer.headers["cache-control"] == "no-store"
    cookie = the_refresh_cookie(answer)
    assert_refresh_cookie(cookie)
    assert cookie.value not in answer.headers["location"]
    assert answer.content == b""


# --- The happy paths -------------------------------------------------------------------------


async def test_start_redirects_to_the_provider_with_state_nonce_and_pkce(
    app: Client, idp: FakeOidcProvider
) -> None:
    answer = await app.get("/auth/google/start", params={"return_to": "/dashboard"})

    assert answer.status_code == 302, answer.text
    assert answer.headers["cache-control"] == "no-store"
    location = urlsplit(answer.headers["location"])
    assert location._replace(query="").geturl() == idp.authorization_endpoint
    query = {name: values for name, values in parse_qs(location.query).items()}
    assert all(len(values) == 1 for values in query.values())
    params = {name: values[0] for name, values in query.items()}
    assert params["response_type"] == "code"
    assert params["scope"] == "openid email profile"
    assert params["client_id"] == idp.client_id
    assert params["redirect_uri"] == REDIRECT_URI
    assert params["code_challenge_method"] == "S256"
    assert len(params["state"]) >= 43
    assert len(params["nonce"]) >= 43
    assert len(params["code_challenge"]) == 43
    [state_cookie] = [c for c in set_cookies(answer) if c.name == "oauth_state"]
    assert state_cookie.value == params["state"]
    assert state_cookie.attributes["path"] == "/auth/google/callback"
    assert {"httponly", "secure"} <= set(state_cookie.attributes)
    assert state_cookie.attributes["samesite"] == "lax"
    assert state_cookie.attributes["max-age"] == "600"
    assert no_refresh_cookie(answer)


async def test_a_new_user_lands_on_the_app_with_a_refresh_cookie_and_no_token_in_the_url(
    app: Client, browser: httpx.AsyncClient, idp: FakeOidcProvider
) -> None:
    answer = await sign_in_with_google(app, browser)

    assert_landed_on_the_app(answer)
    user = await signed_in_user(app)
    assert (user["email"], user["name"], user["role"]) == (ADA, "Ada Lovelace", "user")
    assert idp.hits["token"] == 1
    # The account has no password: password login is refused.
    wrong = await app.post("/auth/login", json={"email": ADA, "password": PASSWORD})
    assert_problem(wrong, 401, "invalid_credentials")


async def test_return_to_defaults_to_the_apps_root(app: Client, browser: httpx.AsyncClient) -> None:
    answer = await sign_in_with_google(app, browser, return_to=None)

    assert_landed_on_the_app(answer, "/")


async def test_the_same_google_account_comes_back_to_the_same_user(
    app: Client, browser: httpx.AsyncClient, idp: FakeOidcProvider
) -> None:
    await sign_in_with_google(app, browser)
    first = await signed_in_user(app)
    idp.profile = FakeProfile(email="ada.renamed@example.test", name="Ada K.")

    assert_landed_on_the_app(await sign_in_with_google(app, browser))

    assert await signed_in_user(app) == first


async def test_a_verified_email_links_to_the_account_made_with_a_password(
    with_google: Callable[..., Client], browser: httpx.AsyncClient, smtp: SmtpSink
) -> None:
    async with with_google(smtp_url=smtp.url, outbox_poll_interval=0.02) as app:
        await register(app, email=ADA, name="Ada")
        token = link_token(await smtp.wait_for(ADA))
        registered = (await app.post("/auth/email/verify", json={"token": token})).json()["user"]

        assert_landed_on_the_app(await sign_in_with_google(app, browser))

        assert await signed_in_user(app) == registered
        assert (await login(app, ADA))["user"] == registered  # the password still works


async def test_a_verified_email_takes_over_an_account_whose_email_was_never_verified(
    app: Client, browser: httpx.AsyncClient
) -> None:
    # The pre-registration takeover: an attacker registers the victim's address with a
    # password and keeps a session; then the victim signs in with the provider.
    attacker = await sign_up(app, email=ADA)
    app.cookies.clear()

    assert_landed_on_the_app(await sign_in_with_google(app, browser))

    victim = await signed_in_user(app)
    assert victim["id"] == attacker.body["user"]["id"]
    assert victim["email_verified"] is True
    password = await app.post("/auth/login", json={"email": ADA, "password": PASSWORD})
    assert_problem(password, 401, "invalid_credentials")
    await assert_access_rejected(app, attacker.access_token)
    stolen = await refresh_with(app, attacker.refresh_token)
    assert stolen.status_code == 401, stolen.text
    refreshed = await app.post("/auth/refresh")  # the victim's own session lives on
    change = await app.post(
        "/auth/password/change",
        json={"current_password": PASSWORD, "new_password": "whatever it is"},
        headers=bearer(refreshed.json()["access_token"]),
    )
    assert_problem(change, 409, "no_password_set")


async def test_an_unverified_email_is_not_linked_to_an_existing_account(
    app: Client, browser: httpx.AsyncClient, idp: FakeOidcProvider
) -> None:
    registered = (await register(app, email=ADA))["user"]
    app.cookies.clear()
    idp.profile = FakeProfile(email=ADA, email_verified=False)

    answer = await sign_in_with_google(app, browser)

    assert_problem(answer, 409, "email_not_verified")
    assert no_refresh_cookie(answer)
    assert (await app.post("/auth/refresh")).status_code == 401  # no session either
    # No identity was linked: the same Google account, now with another verified address,
    # gets an account of its own rather than the registered one.
    idp.profile = FakeProfile(email="ada.other@example.test", email_verified=True)
    assert_landed_on_the_app(await sign_in_with_google(app, browser))
    assert (await signed_in_user(app))["id"] != registered["id"]


async def test_without_an_app_url_the_callback_answers_with_the_login_body(
    with_google: Callable[..., Client], browser: httpx.AsyncClient
) -> None:
    async with with_google(app_url=None) as app:
        answer = await sign_in_with_google(app, browser)

        assert answer.status_code == 200, answer.text
        assert answer.headers["cache-control"] == "no-store"
        body = answer.json()
        assert_token_body(body, user=True)
        assert body["user"]["email"] == ADA
        assert_refresh_cookie(the_refresh_cookie(answer))
        me = await app.get("/auth/me", headers=bearer(body["access_token"]))
        assert me.json()["user"] == body["user"]


# --- The state ---------------------------------------------------------------------------------


async def test_a_missing_or_unknown_state_answers_400_without_a_code_exchange(
    app: Client, browser: httpx.AsyncClient, idp: FakeOidcProvider
) -> None:
    callback = await come_back(browser, await go_to_provider(app))  # a real attempt is pending
    code = parse_qs(urlsplit(callback).query)["code"][0]
    unknown = "A" * 43

    for query in (f"code={code}", f"code={code}&state=", f"code={code}&state={unknown}"):
        answer = await app.get(f"/auth/google/callback?{query}")

        assert_problem(answer, 400, "invalid_oauth_state")
        assert no_refresh_cookie(answer)
    assert idp.hits["token"] == 0


async def test_a_replayed_callback_answers_400_and_is_not_exchanged_again(
    app: Client, browser: httpx.AsyncClient, idp: FakeOidcProvider
) -> None:
    callback = await come_back(browser, await go_to_provider(app))
    assert_landed_on_the_app(await app.get(callback))

    replay = await app.get(callback)

    assert_problem(replay, 400, "invalid_oauth_state")
    assert no_refresh_cookie(replay)
    assert idp.hits["token"] == 1


async def test_a_callback_link_opened_in_another_browser_is_refused(
    app: Client, browser: httpx.AsyncClient, idp: FakeOidcProvider
) -> None:
    # Login CSRF (RFC 9700 §4.7.1): an attacker's own callback link, sent to a victim.
    callback = await come_back(browser, await go_to_provider(app))
    app.cookies.clear()

    answer = await app.get(callback)

    assert_problem(answer, 400, "invalid_oauth_state")
    assert idp.hits["token"] == 0


async def test_a_state_older_than_ten_minutes_is_refused(
    app: Client, browser: httpx.AsyncClient, idp: FakeOidcProvider, clock: FakeClock
) -> None:
    callback = await come_back(browser, await go_to_provider(app))
    clock.advance(601)

    answer = await app.get(callback)

    assert_problem(answer, 400, "invalid_oauth_state")
    assert idp.hits["token"] == 0


# --- The provider says no --------------------------------------------------------------------


async def test_a_refusal_at_the_provider_answers_400_with_its_code(
    app: Client, browser: httpx.AsyncClient, idp: FakeOidcProvider
) -> None:
    idp.authorize_error = "access_denied"

    answer = await sign_in_with_google(app, browser)

    assert_problem(answer, 400, "access_denied")
    assert no_refresh_cookie(answer)
    assert idp.hits["token"] == 0


async def test_an_unacceptable_id_token_answers_400_invalid_id_token(
    app: Client, browser: httpx.AsyncClient, idp: FakeOidcProvider
) -> None:
    wrong_nonce = {"nonce": "other"}
    wrong_audience = {"aud": "someone-else"}
    wrong_issuer = {"iss": "https://evil.example"}
    expired = {"exp": int(time.time()) - 3600}

    for claims in (wrong_nonce, wrong_audience, wrong_issuer, expired):
        idp.claims = claims
        answer = await sign_in_with_google(app, browser)

        assert_problem(answer, 400, "invalid_id_token")
        assert no_refresh_cookie(answer)
    await register(app, email=ADA)  # no account was made for that address


async def test_an_id_token_signed_with_an_unpublished_key_is_refused_after_one_refetch(
    app: Client, browser: httpx.AsyncClient, idp: FakeOidcProvider
) -> None:
    assert_landed_on_the_app(await sign_in_with_google(app, browser))
    idp.header = {"kid": "unknown"}

    answer = await sign_in_with_google(app, browser)

    assert_problem(answer, 400, "invalid_id_token")
    assert idp.hits["jwks"] == 2


async def test_rotated_provider_keys_are_picked_up_with_one_jwks_refetch(
    app: Client, browser: httpx.AsyncClient, idp: FakeOidcProvider
) -> None:
    assert_landed_on_the_app(await sign_in_with_google(app, browser))
    first = await signed_in_user(app)
    idp.rotate_keys()

    assert_landed_on_the_app(await sign_in_with_google(app, browser))

    assert await signed_in_user(app) == first
    assert idp.hits["jwks"] == 2


async def test_a_provider_outage_answers_503_and_writes_nothing(
    app: Client, browser: httpx.AsyncClient, idp: FakeOidcProvider
) -> None:
    idp.down["token"] = "503"

    answer = await sign_in_with_google(app, browser)

    assert_problem(answer, 503, "identity_provider_unavailable")
    assert answer.headers["retry-after"]
    assert no_refresh_cookie(answer)
    idp.down.clear()
    await register(app, email=ADA)  # the address is still free: no account was made


async def test_a_provider_unreachable_at_start_answers_503(
    app: Client, idp: FakeOidcProvider
) -> None:
    idp.down["discovery"] = "503"

    answer = await app.get("/auth/google/start")

    assert_problem(answer, 503, "identity_provider_unavailable")
    assert "location" not in answer.headers


# --- Where the browser may be sent, and which providers exist --------------------------------


async def test_open_redirects_in_return_to_answer_400(app: Client, idp: FakeOidcProvider) -> None:
    for return_to in (
        "//evil.example",
        "https://evil.example",
        "/\\evil.example",
        "/other",
        "/dashboard/../x",
    ):
        answer = await app.get("/auth/google/start", params={"return_to": return_to})

        assert_problem(answer, 400, "invalid_return_to")
        assert "location" not in answer.headers
        assert no_state_cookie(answer)
    assert idp.hits["discovery"] == 0


async def test_an_unknown_provider_answers_404(app: Client) -> None:
    assert_problem(await app.get("/auth/github/start"), 404, "unknown_provider")
    assert_problem(await app.get("/auth/github/callback?code=a&state=b"), 404, "unknown_provider")


async def test_without_any_provider_configured_google_answers_404(
    make_client: Callable[..., Client],
) -> None:
    async with make_client() as app:
        assert_problem(await app.get("/auth/google/start"), 404, "unknown_provider")


async def test_a_disabled_account_cannot_sign_in_with_the_provider(
    app: Client, browser: httpx.AsyncClient, settings: Settings
) -> None:
    await sign_in_with_google(app, browser)
    user = await signed_in_user(app)
    admin = await an_admin(app, settings)
    disabled = await app.post(f"/admin/users/{user['id']}/disable", headers=admin.headers)
    assert disabled.status_code == 204

    answer = await sign_in_with_google(app, browser)

    assert_problem(answer, 403, "account_disabled")
    assert settings.cookie_name not in answer.headers.get("set-cookie", "")
