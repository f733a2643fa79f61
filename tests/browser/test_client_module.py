"""The client module's own rules, run in Chromium against a stand-in ``fetch`` (the module
takes one as an option): single-flight refresh, one retry on a 401, which 401s count, the
sign-out signal, and where the token may go. Each scenario is JavaScript evaluated in a page
of the served origin, importing the module the service serves."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import pytest

from tests.browser.conftest import Demo

if TYPE_CHECKING:
    from playwright.sync_api import BrowserContext, Page

# Shared by every scenario: the module, a log of what reached the network, and a stand-in
# fetch. /auth/refresh answers `token-1`, `token-2`, … after 20 ms (or what `refreshAnswer`
# says); other paths answer what the scenario's `api(request, token)` returns.
PRELUDE = """
const { AuthClient, AuthError, MfaRequired } = await import("/auth/client.js");
const log = [];
let issued = 0;
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
const json = (status, body, type = "application/json") =>
  new Response(JSON.stringify(body), { status, headers: { "Content-Type": type } });
const problem = (status, code) =>
  json(status, { title: "t", status, detail: code, code }, "application/problem+json");
let refreshAnswer = () =>
  json(200, { access_token: `token-${++issued}`, token_type: "Bearer", expires_in: 900 });
function client(api, options = {}) {
  const fetch = async (input, init) => {
    const request = new Request(input, init);
    const url = new URL(request.url);
    const token = (request.headers.get("Authorization") ?? "-").replace("Bearer ", "");
    const where = url.origin === location.origin ? url.pathname : url.href;
    log.push(`${request.method} ${where} ${token}`);
    if (url.pathname === "/auth/refresh") {
      await sleep(20);
      return refreshAnswer();
    }
    return api(request, token);
  };
  return new AuthClient({ fetch, ...options });
}
const ok = () => json(200, { ok: true });
"""


def run(page: Page, scenario: str) -> Any:
    return page.evaluate(f"async () => {{ {PRELUDE}\n{scenario} }}")


@pytest.fixture
def page(demo: Demo, context: BrowserContext) -> Page:
    """A page of the service's origin without the demo's script, so only the scenario runs."""
    opened = context.new_page()
    opened.goto(f"{demo.server.url}/health/live")
    return opened


def test_concurrent_calls_share_one_refresh(page: Page):
    log = run(
        page,
        """
        const auth = client(ok);
        await Promise.all([auth.fetch("/api/a"), auth.fetch("/api/b"), auth.fetch("/api/c")]);
        return log;
        """,
    )
    assert log[0] == "POST /auth/refresh -"
    assert sorted(log[1:]) == ["GET /api/a token-1", "GET /api/b token-1", "GET /api/c token-1"]


def test_a_refused_token_is_refreshed_once_and_the_request_retried_once(page: Page):
    result = run(
        page,
        """
        const auth = client((request, token) =>
          token === "token-2" ? ok() : problem(401, "invalid_token"));
        await auth.restore();
        const answer = await auth.fetch("/api/orders", { method: "POST", body: "same body" });
        return { log, status: answer.status };
        """,
    )
    assert result["log"] == [
        "POST /auth/refresh -",
        "POST /api/orders token-1",
        "POST /auth/refresh -",
        "POST /api/orders token-2",
    ]
    assert result["status"] == 200


def test_a_token_refused_again_after_the_refresh_is_not_retried_twice(page: Page):
    result = run(
        page,
        """
        const auth = client(() => problem(401, "invalid_token"));
        await auth.restore();
        const answer = await auth.fetch("/api/orders");
        return { log, status: answer.status, signedIn: auth.signedIn };
        """,
    )
    assert result["log"] == [
        "POST /auth/refresh -",
        "GET /api/orders token-1",
        "POST /auth/refresh -",
        "GET /api/orders token-2",
    ]
    assert result["status"] == 401
    assert result["signedIn"] is True  # the refresh worked: the API has its own reasons


def test_calls_refused_together_share_one_refresh_and_each_retries(page: Page):
    log = run(
        page,
        """
        const auth = client((request, token) =>
          token === "token-1" ? problem(401, "invalid_token") : ok());
        await auth.restore();
        const answers = await Promise.all(["/api/a", "/api/b", "/api/c"].map((p) => auth.fetch(p)));
        if (!answers.every((a) => a.status === 200)) throw new Error("a call failed");
        return log;
        """,
    )
    assert log.count("POST /auth/refresh -") == 2  # restore, then one for the three
    assert sorted(entry for entry in log if "token-2" in entry) == [
        "GET /api/a token-2",
        "GET /api/b token-2",
        "GET /api/c token-2",
    ]


def test_a_401_arriving_after_another_call_refreshed_retries_with_the_new_token(page: Page):
    log = run(
        page,
        """
        const auth = client(async (request, token) => {
          if (token !== "token-1") return ok();
          if (request.url.endsWith("/slow")) await sleep(200);
          return problem(401, "invalid_token");
        });
        await auth.restore();
        await Promise.all([auth.fetch("/api/slow"), auth.fetch("/api/fast")]);
        return log;
        """,
    )
    assert log.count("POST /auth/refresh -") == 2  # restore, then the fast call's only
    assert log[-1] == "GET /api/slow token-2"


def test_a_refused_refresh_signs_out_once_with_the_reason(page: Page):
    result = run(
        page,
        """
        const auth = client(() => problem(401, "invalid_token"));
        const reasons = [];
        auth.addEventListener("signedout", (event) => reasons.push(event.detail.reason));
        await auth.restore();
        refreshAnswer = () => problem(401, "refresh_token_reused");
        const answers = await Promise.all([auth.fetch("/api/a"), auth.fetch("/api/b")]);
        return { reasons, statuses: answers.map((a) => a.status), signedIn: auth.signedIn };
        """,
    )
    assert result == {
        "reasons": ["refresh_token_reused"],
        "statuses": [401, 401],
        "signedIn": False,
    }


def test_a_login_while_the_page_load_refresh_is_on_its_way_keeps_the_login(page: Page):
    result = run(
        page,
        """
        refreshAnswer = () => problem(401, "invalid_refresh_token");
        const auth = client((request) =>
          request.url.endsWith("/auth/login")
            ? json(200, { access_token: "logged-in", token_type: "Bearer", expires_in: 900 })
            : ok());
        let signals = 0;
        auth.addEventListener("signedout", () => signals++);
        const restoring = auth.restore();  // the cookie-less refresh answers in 20 ms
        await auth.login("ada@example.test", "correct horse battery");
        const restored = await restoring;
        await auth.fetch("/api/a");
        return { restored, signals, signedIn: auth.signedIn, last: log.at(-1) };
        """,
    )
    assert result == {
        "restored": True,
        "signals": 0,
        "signedIn": True,
        "last": "GET /api/a logged-in",
    }


def test_restoring_without_a_session_is_quiet(page: Page):
    result = run(
        page,
        """
        refreshAnswer = () => problem(401, "invalid_refresh_token");
        const auth = client(ok);
        let signals = 0;
        auth.addEventListener("signedout", () => signals++);
        return { restored: await auth.restore(), signals, signedIn: auth.signedIn };
        """,
    )
    assert result == {"restored": False, "signals": 0, "signedIn": False}


def test_a_refresh_the_server_could_not_answer_keeps_the_session(page: Page):
    result = run(
        page,
        """
        const auth = client(ok);
        await auth.restore();
        refreshAnswer = () => problem(503, "service_unavailable");
        let thrown = null;
        try {
          await auth.refresh();
        } catch (error) {
          thrown = [error.name, error.status, error.code];
        }
        return { thrown, signedIn: auth.signedIn };
        """,
    )
    assert result == {"thrown": ["AuthError", 503, "service_unavailable"], "signedIn": True}


def test_a_401_refusing_something_else_than_the_token_is_answered_as_it_is(page: Page):
    result = run(
        page,
        """
        const auth = client(() => problem(401, "invalid_credentials"));
        await auth.restore();
        let code = null;
        try {
          await auth.changePassword("wrong", "a new passphrase");
        } catch (error) {
          code = error.code;
        }
        return { log, code };
        """,
    )
    assert result["log"] == ["POST /auth/refresh -", "POST /auth/password/change token-1"]
    assert result["code"] == "invalid_credentials"


def test_the_token_goes_only_to_the_service_and_the_listed_api_origins(page: Page):
    log = run(
        page,
        """
        const auth = client(ok, { apiOrigins: ["https://api.example.test"] });
        await auth.restore();
        await auth.fetch("https://elsewhere.example.test/track");
        await auth.fetch("https://api.example.test/orders");
        await auth.fetch("/api/orders");
        return log;
        """,
    )
    assert log[1:] == [
        "GET https://elsewhere.example.test/track -",
        "GET https://api.example.test/orders token-1",
        "GET /api/orders token-1",
    ]


def test_the_token_is_kept_nowhere_but_in_memory(page: Page):
    result = run(
        page,
        """
        const auth = client(ok);
        await auth.restore();
        await auth.fetch("/api/a");
        const everything = JSON.stringify([{ ...localStorage }, { ...sessionStorage },
          document.cookie, location.href, Object.keys(auth), JSON.stringify(auth)]);
        return { leaked: everything.includes("token-1"), signedIn: auth.signedIn };
        """,
    )
    assert result == {"leaked": False, "signedIn": True}


def test_a_second_factor_is_asked_for_and_a_code_completes_the_sign_in(page: Page):
    result = run(
        page,
        """
        const sent = [];
        const auth = client(async (request) => {
          const path = new URL(request.url).pathname;
          if (path === "/api/orders") return ok();
          const body = await request.json();
          sent.push([path, body, request.credentials]);
          if (path === "/auth/login") {
            return json(401, { status: 401, code: "mfa_required", detail: "A second factor.",
              mfa_token: "mfa-1", methods: ["totp", "recovery_code", "passkey"] },
              "application/problem+json");
          }
          if (body.code === "000000") return problem(401, "invalid_mfa_code");
          return json(200, { access_token: "after-mfa", token_type: "Bearer", expires_in: 900,
            user: { email: "ada@site.com" } });
        });
        const events = [];
        auth.addEventListener("signedin", (event) => events.push(event.detail.user.email));
        const asked = await auth.login("ada@site.com", "secret123").catch((error) => error);
        const heldAfterPassword = auth.signedIn;
        const wrong = await auth.loginMfa(asked.mfaToken, { code: "000000" }).catch((e) => e.code);
        const user = await auth.loginMfa(asked.mfaToken, { recoveryCode: "7hq2m-x4k9d" });
        await auth.fetch("/api/orders");
        return {
          thrown: [asked.name, asked instanceof MfaRequired, asked instanceof AuthError,
            asked.status, asked.code, asked.mfaToken, asked.methods],
          heldAfterPassword, wrong, user, events, sent, last: log.at(-1),
        };
        """,
    )
    assert result["thrown"] == [
        "MfaRequired",
        True,
        True,
        401,
        "mfa_required",
        "mfa-1",
        ["totp", "recovery_code", "passkey"],
    ]
    assert result["heldAfterPassword"] is False  # no session before the second step
    assert result["wrong"] == "invalid_mfa_code"
    assert result["user"] == {"email": "ada@site.com"}
    assert result["events"] == ["ada@site.com"]  # signed in once, by the right code
    assert result["sent"] == [
        ["/auth/login", {"email": "ada@site.com", "password": "secret123"}, "include"],
        ["/auth/login/mfa", {"mfa_token": "mfa-1", "code": "000000"}, "include"],
        ["/auth/login/mfa", {"mfa_token": "mfa-1", "recovery_code": "7hq2m-x4k9d"}, "include"],
    ]
    assert result["last"] == "GET /api/orders after-mfa"


def test_the_second_factor_calls_send_the_token_and_only_what_was_given(page: Page):
    result = run(
        page,
        """
        const sent = [];
        const auth = client(async (request, token) => {
          const path = new URL(request.url).pathname;
          sent.push([request.method, path, token, await request.text()]);
          if (path === "/auth/mfa") {
            return json(200, { totp: true, recovery_codes_left: 9, passkeys: 2, password: false });
          }
          if (path === "/auth/mfa/totp/setup") {
            const uri = "otpauth://totp/x?secret=JBSWY3DP";
            return json(200, { secret: "JBSWY3DP", otpauth_uri: uri });
          }
          if (path === "/auth/mfa/recovery-codes") return json(200, { recovery_codes: ["a", "b"] });
          if (path === "/auth/passkeys") return json(200, { passkeys: [{ id: 7 }] });
          return new Response(null, { status: 204 });
        });
        return {
          overview: await auth.secondFactors(),
          setup: await auth.totpSetup(),
          codes: await auth.regenerateRecoveryCodes("123456"),
          passkeys: await auth.passkeys(),
          removed: await auth.removePasskey(7),
          disabled: await auth.totpDisable({ password: "secret123" }),
          set: await auth.setPassword("a first password"),
          sent: sent,
        };
        """,
    )
    assert result["overview"] == {
        "totp": True,
        "recoveryCodesLeft": 9,
        "passkeys": 2,
        "password": False,
    }
    assert result["setup"] == {
        "secret": "JBSWY3DP",
        "otpauthUri": "otpauth://totp/x?secret=JBSWY3DP",
    }
    assert result["codes"] == ["a", "b"]
    assert result["passkeys"] == [{"id": 7}]
    assert result["sent"] == [
        ["GET", "/auth/mfa", "token-1", ""],
        ["POST", "/auth/mfa/totp/setup", "token-1", ""],
        ["POST", "/auth/mfa/recovery-codes", "token-1", '{"code":"123456"}'],
        ["GET", "/auth/passkeys", "token-1", ""],
        ["DELETE", "/auth/passkeys/7", "token-1", ""],
        ["DELETE", "/auth/mfa/totp", "token-1", '{"password":"secret123"}'],
        ["POST", "/auth/password/set", "token-1", '{"new_password":"a first password"}'],
    ]
