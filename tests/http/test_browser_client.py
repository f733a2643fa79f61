"""The browser client at /auth/client.js, always served, and the demo at /demo, served only
with AUTH_DEMO=true, under a strict Content-Security-Policy."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import AsyncExitStack
from pathlib import Path
from typing import Any

import pytest
from litestar.testing import AsyncTestClient

from infrastructure.config import Settings, load_settings
from interfaces.http.app import create_app
from interfaces.http.demo import TURNSTILE_ORIGIN
from tests.http.conftest import BASE_URL, deployment

# The npm package's file is what the service serves, byte for byte.
CLIENT_SOURCE = Path(__file__).parents[2] / "clients/js/src/authgate-client.js"
DEMO_PAGES = ["/demo", "/demo/", "/demo/verify-email", "/demo/reset-password"]
DEMO_SCRIPTS = ["/demo/demo.js", "/demo/ui.js", "/demo/second-factor.js", "/demo/qrcode.mjs"]
MakeClient = Callable[..., Awaitable[AsyncTestClient[Any]]]


@pytest.fixture
async def base(request: pytest.FixtureRequest, tmp_path: Path) -> Settings:
    """One deployment is enough: these answers read no backend."""
    return await deployment("sqlite+memory", request, tmp_path)


@pytest.fixture
async def serve(base: Settings) -> AsyncIterator[MakeClient]:
    """A client of the app with these AUTH_* variables on top of the deployment's."""
    async with AsyncExitStack() as opened:

        async def make(**variables: str) -> AsyncTestClient[Any]:
            env = {
                "AUTH_DATABASE_URL": base.database_url,
                "AUTH_GRANTS_URL": base.grants_url,
                "AUTH_KEYS_FILE": str(base.keys_file),
                "AUTH_ISSUER": BASE_URL,
                **variables,
            }
            app = create_app(load_settings(env, dotenv=None))
            return await opened.enter_async_context(AsyncTestClient(app, base_url=BASE_URL))

        yield make


async def test_the_client_module_is_the_npm_packages_file_served_as_javascript(serve):
    client = await serve()
    answer = await client.get("/auth/client.js")
    assert answer.status_code == 200
    assert answer.headers["content-type"] == "text/javascript; charset=utf-8"
    assert answer.content == CLIENT_SOURCE.read_bytes()
    assert answer.headers["cache-control"] == "public, max-age=300"
    assert answer.headers["x-content-type-options"] == "nosniff"
    assert "export class AuthClient" in answer.text


async def test_the_client_module_revalidates_with_its_etag(serve):
    client = await serve()
    etag = (await client.get("/auth/client.js")).headers["etag"]
    for if_none_match in (etag, f"W/{etag}", f'"other", {etag}', "*"):
        unchanged = await client.get("/auth/client.js", headers={"If-None-Match": if_none_match})
        assert unchanged.status_code == 304, if_none_match
        assert unchanged.content == b""
        assert unchanged.headers["etag"] == etag
    changed = await client.get("/auth/client.js", headers={"If-None-Match": '"stale"'})
    assert changed.status_code == 200
    assert changed.content == CLIENT_SOURCE.read_bytes()


async def test_an_app_on_an_allowed_origin_may_load_the_module(serve):
    """Module scripts are fetched with CORS: the app's origin must be in AUTH_ALLOWED_ORIGINS,
    as it must be for the cookie calls anyway."""
    app = "https://app.example.test"
    client = await serve(AUTH_ALLOWED_ORIGINS=app)
    allowed = await client.get("/auth/client.js", headers={"Origin": app})
    assert allowed.headers["access-control-allow-origin"] == app
    foreign = await client.get("/auth/client.js", headers={"Origin": "https://evil.example"})
    assert "access-control-allow-origin" not in foreign.headers


async def test_the_demo_is_off_unless_asked_for(serve):
    client = await serve()
    for path in [*DEMO_PAGES, *DEMO_SCRIPTS]:
        answer = await client.get(path)
        assert answer.status_code == 404, path
        assert answer.headers["content-type"] == "application/problem+json"
    off = await serve(AUTH_DEMO="false")
    assert (await off.get("/demo")).status_code == 404


async def test_every_demo_page_has_a_strict_content_security_policy(serve):
    client = await serve(AUTH_DEMO="true")
    for path in DEMO_PAGES:
        page = await client.get(path)
        assert page.status_code == 200, path
        assert page.headers["content-type"] == "text/html; charset=utf-8"
        policy = directives(page.headers["content-security-policy"])
        assert policy["default-src"] == ["'none'"]
        assert policy["script-src"] == ["'self'"]
        assert policy["style-src"] == ["'self'"]
        assert policy["connect-src"] == ["'self'"]
        assert policy["frame-src"] == ["'none'"]
        assert policy["frame-ancestors"] == ["'none'"]
        assert policy["base-uri"] == ["'none'"]
        assert "unsafe-inline" not in page.headers["content-security-policy"]
        assert page.headers["referrer-policy"] == "no-referrer"
        assert page.headers["cache-control"] == "no-store"
        assert page.headers["x-frame-options"] == "DENY"
        # No inline script or handler that the policy would have to allow.
        assert '<script type="module" src="/demo/demo.js"></script>' in page.text
        assert page.text.count("<script") == 1
        assert re.search(r"\son[a-z]+\s*=|<style|\sstyle\s*=", page.text) is None


async def test_the_demo_script_and_style_are_served_with_their_types(serve):
    client = await serve(AUTH_DEMO="true")
    for path in DEMO_SCRIPTS:
        script = await client.get(path)
        assert script.status_code == 200, path
        assert script.headers["content-type"] == "text/javascript; charset=utf-8"
    assert 'from "/auth/client.js"' in (await client.get("/demo/demo.js")).text
    # The QR code of the authenticator app is drawn by the vendored encoder, in the page.
    assert 'from "/demo/qrcode.mjs"' in (await client.get("/demo/second-factor.js")).text
    style = await client.get("/demo/demo.css")
    assert style.headers["content-type"] == "text/css; charset=utf-8"
    assert (
        await client.get("/demo/demo.css", headers={"If-None-Match": style.headers["etag"]})
    ).status_code == 304


async def test_with_a_site_key_the_policy_lets_turnstile_in_and_the_page_knows_the_key(serve):
    client = await serve(AUTH_DEMO="true", AUTH_TURNSTILE_SITE_KEY='1x00000000000000000000AA"><b>')
    page = await client.get("/demo")
    policy = directives(page.headers["content-security-policy"])
    assert policy["script-src"] == ["'self'", TURNSTILE_ORIGIN]
    assert policy["frame-src"] == [TURNSTILE_ORIGIN]
    # An attribute value, escaped: the setting cannot inject markup.
    assert 'data-turnstile-site-key="1x00000000000000000000AA&quot;&gt;&lt;b&gt;"' in page.text


async def test_the_page_names_the_configured_identity_providers(serve):
    google = {
        "AUTH_GOOGLE_CLIENT_ID": "id",
        "AUTH_GOOGLE_CLIENT_SECRET": "secret",
        "AUTH_GOOGLE_REDIRECT_URI": f"{BASE_URL}/auth/google/callback",
    }
    client = await serve(AUTH_DEMO="true", **google)
    assert 'data-providers="google"' in (await client.get("/demo")).text
    plain = await serve(AUTH_DEMO="true")
    assert 'data-providers=""' in (await plain.get("/demo")).text


async def test_the_page_names_the_origins_passkeys_work_on(serve):
    loopback = await serve(AUTH_DEMO="true", AUTH_ISSUER="http://127.0.0.1:8000")
    # No IP address can be an RP ID: the loopback issuer's passkeys live on localhost.
    assert 'data-passkey-origins="http://localhost:8000"' in (await loopback.get("/demo")).text
    listed = await serve(
        AUTH_DEMO="true",
        AUTH_RP_ID="example.test",
        AUTH_RP_ORIGINS="https://example.test,https://app.example.test",
    )
    page = (await listed.get("/demo")).text
    assert 'data-passkey-origins="https://example.test https://app.example.test"' in page


def test_in_the_demo_the_demo_is_the_app_the_mails_and_providers_send_to():
    demo = load_settings({"AUTH_DEMO": "true", "AUTH_PORT": "8123"}, dotenv=None)
    assert demo.app_url == "http://127.0.0.1:8123/demo"
    assert demo.mail_link("verify-email") == "http://127.0.0.1:8123/demo/verify-email?token={token}"
    assert demo.mail_link("reset-password").startswith("http://127.0.0.1:8123/demo/reset-password?")
    own_app = load_settings(
        {"AUTH_DEMO": "true", "AUTH_APP_URL": "https://app.example.test"}, dotenv=None
    )
    assert own_app.app_url == "https://app.example.test"
    assert load_settings({}, dotenv=None).app_url is None


def directives(policy: str) -> dict[str, list[str]]:
    parsed = (part.split() for part in policy.split(";") if part.strip())
    return {name: values for name, *values in parsed}
