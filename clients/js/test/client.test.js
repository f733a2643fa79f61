// AuthClient against a real authgate: a 401 refreshed once and the call sent again, one
// refresh shared by concurrent calls, a session ended elsewhere signing out, logout, and the
// token kept from other origins. Node has no cookie jar: `jarFetch` plays the browser's part
// with the HttpOnly refresh cookie.
//
// AUTHGATE_TEST_URL names the server (limits high enough for many sign-ins from one address);
// AUTHGATE_TEST_CLI and AUTHGATE_TEST_WORKDIR its `authgate` command and the directory it
// serves from, to pull its signing keys. The service's suite starts one and runs these
// (tests/e2e/test_js_client_package.py); without it they skip.

import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { randomUUID } from "node:crypto";
import { chmodSync, readFileSync, renameSync, writeFileSync } from "node:fs";
import { createServer } from "node:http";
import { join } from "node:path";
import { describe, test } from "node:test";

import { AuthClient, AuthError, StepUpRequired } from "@authgate/client";

const SERVER = process.env.AUTHGATE_TEST_URL;
const CLI = process.env.AUTHGATE_TEST_CLI;
const WORKDIR = process.env.AUTHGATE_TEST_WORKDIR;
const PASSWORD = "correct horse battery";
// The server's AUTH_REAUTH_MAX_AGE: a sign-in older than this must be proven again (step-up).
const REAUTH_MAX_AGE = Number(process.env.AUTHGATE_TEST_REAUTH_MAX_AGE ?? 2);
const skip = SERVER ? false : "AUTHGATE_TEST_URL names no authgate to test against";

/** A fetch with a cookie jar of its own, recording [method, path, status] of every call. */
function jarFetch() {
  const jar = new Map();
  const calls = [];
  async function send(input, init) {
    const request = new Request(input, init);
    const url = new URL(request.url);
    if (jar.size && url.origin === new URL(SERVER).origin && url.pathname.startsWith("/auth")) {
      request.headers.set("Cookie", [...jar].map(([name, value]) => `${name}=${value}`).join("; "));
    }
    const response = await fetch(request);
    for (const line of response.headers.getSetCookie()) {
      const [pair, ...attributes] = line.split(";");
      const at = pair.indexOf("=");
      const [name, value] = [pair.slice(0, at).trim(), pair.slice(at + 1).trim()];
      const expired = attributes.some((a) => /^\s*max-age=0\s*$/i.test(a));
      if (expired || value === "" || value === '""') jar.delete(name);
      else jar.set(name, value);
    }
    calls.push([request.method, url.pathname, response.status]);
    return response;
  }
  return { send, jar, calls, refreshes: () => calls.filter(([, p]) => p === "/auth/refresh").map(([, , s]) => s) };
}

async function signedUp(options = {}) {
  const browser = jarFetch();
  const auth = new AuthClient({ baseUrl: SERVER, fetch: browser.send, ...options });
  const email = `${randomUUID().slice(0, 12)}@example.com`;
  await auth.register({ email, password: PASSWORD });
  return { auth, browser, email };
}

function signedOut(auth) {
  return new Promise((resolve) => auth.addEventListener("signedout", (e) => resolve(e.detail.reason), { once: true }));
}

/** An access token of another session of the user, to see when the server refuses it. */
async function probeToken(email) {
  const answer = await fetch(`${SERVER}/auth/login`, {
    method: "POST",
    headers: { "Content-Type": "application/json", "X-Auth-Transport": "body" },
    body: JSON.stringify({ email, password: PASSWORD }),
  });
  return (await answer.json()).access_token;
}

/** `authgate keys rotate`, then every older key out of the file: every access token signed
 * so far is refused (within the second the server takes to re-read it), the sessions live. */
async function pullOldSigningKeys(probe) {
  assert.ok(CLI && WORKDIR, "needs AUTHGATE_TEST_CLI and AUTHGATE_TEST_WORKDIR");
  const env = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith("AUTH_")));
  execFileSync(CLI, ["keys", "rotate"], { cwd: WORKDIR, env });
  const path = join(WORKDIR, "data", "jwks.json");
  const data = JSON.parse(readFileSync(path, "utf8"));
  data.keys.keys = data.keys.keys.slice(0, 1);
  const temporary = join(WORKDIR, "data", ".jwks.json.node-test");
  writeFileSync(temporary, JSON.stringify(data));
  chmodSync(temporary, 0o600);
  renameSync(temporary, path);
  const deadline = Date.now() + 10_000;
  while (Date.now() < deadline) {
    const answer = await fetch(`${SERVER}/auth/me`, { headers: { Authorization: `Bearer ${probe}` } });
    if (answer.status === 401) return;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  assert.fail("the server still accepts a token signed with a pulled key");
}

describe("AuthClient against authgate", { skip }, () => {
  test("a call refused with 401 gets one refresh and is sent again", async () => {
    const { auth, browser, email } = await signedUp();
    const cookie = browser.jar.get("refresh_id");
    await pullOldSigningKeys(await probeToken(email));
    browser.calls.length = 0;

    const user = await auth.me();

    assert.equal(user.email, email);
    assert.deepEqual(browser.calls, [
      ["GET", "/auth/me", 401],
      ["POST", "/auth/refresh", 200],
      ["GET", "/auth/me", 200],
    ]);
    assert.notEqual(browser.jar.get("refresh_id"), cookie); // rotated
  });

  test("concurrent calls refused with 401 share one refresh", async () => {
    const { auth, browser, email } = await signedUp();
    await pullOldSigningKeys(await probeToken(email));
    browser.calls.length = 0;

    const answers = await Promise.all(Array.from({ length: 8 }, () => auth.fetch(`${SERVER}/auth/sessions`)));

    assert.deepEqual(answers.map((a) => a.status), Array(8).fill(200));
    assert.deepEqual(browser.refreshes(), [200]);
  });

  test("concurrent refreshes send one request: a refresh token is never spent twice", async () => {
    const { auth, browser } = await signedUp();
    const cookie = browser.jar.get("refresh_id");

    const results = await Promise.all(Array.from({ length: 5 }, () => auth.refresh()));

    assert.deepEqual(results, Array(5).fill(true));
    assert.deepEqual(browser.refreshes(), [200]);
    assert.notEqual(browser.jar.get("refresh_id"), cookie);
    assert.equal((await auth.me()).role, "user");
  });

  test("a session ended elsewhere signs out: the refresh is refused and signedout fires", async () => {
    const { auth, browser, email } = await signedUp();
    const elsewhere = new AuthClient({ baseUrl: SERVER, fetch: jarFetch().send });
    await elsewhere.login(email, PASSWORD);
    const reason = signedOut(auth);

    await elsewhere.logoutEverywhere();
    const refused = await auth.me().catch((error) => error);

    assert.ok(refused instanceof AuthError);
    assert.equal(refused.status, 401);
    assert.equal(await reason, "invalid_refresh_token");
    assert.equal(auth.signedIn, false);
    assert.deepEqual(browser.calls.slice(-2), [
      ["GET", "/auth/me", 401],
      ["POST", "/auth/refresh", 401],
    ]);
    assert.equal(await auth.restore(), false); // nothing to come back to
  });

  test("logout ends the session on the server and here", async () => {
    const { auth, browser } = await signedUp();
    const cookie = browser.jar.get("refresh_id");
    const reason = signedOut(auth);

    await auth.logout();

    assert.equal(await reason, "logout");
    assert.equal(auth.signedIn, false);
    assert.equal(browser.jar.has("refresh_id"), false); // the server cleared the cookie
    const replayed = await fetch(`${SERVER}/auth/refresh`, { method: "POST", headers: { Cookie: `refresh_id=${cookie}` } });
    assert.equal(replayed.status, 401);
    assert.equal((await replayed.json()).code, "invalid_refresh_token");
  });

  test("the access token goes to authgate and the apiOrigins only", async () => {
    const seen = [];
    const api = createServer((request, response) => {
      seen.push(request.headers.authorization ?? null);
      response.end("{}");
    });
    await new Promise((resolve) => api.listen(0, "127.0.0.1", resolve));
    const origin = `http://127.0.0.1:${api.address().port}`;
    try {
      const { auth: stranger } = await signedUp();
      const { auth: trusting } = await signedUp({ apiOrigins: [origin] });

      await stranger.fetch(`${origin}/orders`);
      await trusting.fetch(`${origin}/orders`);

      assert.equal(seen[0], null);
      assert.match(seen[1], /^Bearer [\w-]+\.[\w-]+\.[\w-]+$/);
    } finally {
      await new Promise((resolve) => api.close(resolve));
    }
  });

  test("a 401 from a third party an API redirects to is left alone: no refresh, no step-up", async () => {
    const stranger = createServer((request, response) => {
      response.writeHead(401, { "Content-Type": "application/problem+json" });
      const challenge = { code: "insufficient_user_authentication", acr_values: "aal2", max_age: 0 };
      response.end(JSON.stringify(request.url === "/challenge" ? challenge : {}));
    });
    const api = createServer((request, response) => {
      // An open redirect on a trusted API: /go?to=<anywhere>
      response.writeHead(302, { Location: new URL(request.url, "http://x").searchParams.get("to") });
      response.end();
    });
    await Promise.all([stranger, api].map((s) => new Promise((resolve) => s.listen(0, "127.0.0.1", resolve))));
    const [elsewhere, origin] = [stranger, api].map((s) => `http://127.0.0.1:${s.address().port}`);
    try {
      const asked = [];
      const { auth, browser } = await signedUp({
        apiOrigins: [origin],
        onStepUp: async (challenge) => asked.push(challenge) && { password: PASSWORD },
      });
      browser.calls.length = 0;

      for (const path of ["/challenge", "/plain"]) {
        const answer = await auth.fetch(`${origin}/go?to=${encodeURIComponent(elsewhere + path)}`);
        assert.equal(answer.status, 401);
      }

      assert.deepEqual(asked, []);
      assert.deepEqual(browser.calls.filter(([, path]) => path.startsWith("/auth")), []);
    } finally {
      await Promise.all([stranger, api].map((s) => new Promise((resolve) => s.close(resolve))));
    }
  });

  test("a sensitive action past the max age asks onStepUp, proves it and goes once more", async () => {
    const asked = [];
    const { auth, browser } = await signedUp({
      onStepUp: async (challenge) => {
        asked.push(challenge);
        return { password: PASSWORD };
      },
    });
    await new Promise((resolve) => setTimeout(resolve, (REAUTH_MAX_AGE + 1.5) * 1000));
    browser.calls.length = 0;

    await auth.changePassword(PASSWORD, PASSWORD);

    assert.equal(asked.length, 1);
    assert.ok(asked[0] instanceof StepUpRequired);
    assert.equal(asked[0].maxAge, REAUTH_MAX_AGE);
    assert.equal(asked[0].acrValues, null);
    assert.deepEqual(browser.calls, [
      ["POST", "/auth/password/change", 401],
      ["POST", "/auth/reauthenticate", 200],
      ["POST", "/auth/password/change", 204],
    ]);
  });

  test("a step-up the user declines leaves the 401 as the answer", async () => {
    const { auth, browser } = await signedUp({ onStepUp: async () => null });
    await new Promise((resolve) => setTimeout(resolve, (REAUTH_MAX_AGE + 1.5) * 1000));
    browser.calls.length = 0;

    const refused = await auth.changePassword(PASSWORD, PASSWORD).catch((error) => error);

    assert.ok(refused instanceof AuthError);
    assert.equal(refused.code, "insufficient_user_authentication");
    assert.deepEqual(browser.calls, [["POST", "/auth/password/change", 401]]);
    assert.equal(auth.signedIn, true); // nothing ended
  });

  test("the activity pages back in time, the export holds the account, delete signs out", async () => {
    const { auth, email } = await signedUp();
    await auth.login(email, PASSWORD);

    const first = await auth.activity({ limit: 2 });
    const rest = await auth.activity({ cursor: first.nextCursor });
    const exported = await auth.exportAccount();
    const ended = signedOut(auth);
    await auth.deleteAccount();

    assert.deepEqual(
      [...first.activity, ...rest.activity].map((entry) => entry.type),
      ["session_started", "session_started", "user_registered"],
    );
    assert.equal(first.activity[0].method[0], "pwd");
    assert.equal(rest.nextCursor, null);
    assert.equal(exported.profile.email, email);
    assert.equal(await ended, "account_deleted");
    assert.equal(auth.signedIn, false);
    const again = new AuthClient({ baseUrl: SERVER, fetch: jarFetch().send });
    await again.register({ email, password: PASSWORD });
    assert.equal(again.signedIn, true);
  });
});

describe("signInWith", () => {
  test("sends the browser to the provider's start, with return_to and max_age", () => {
    const went = [];
    const saved = Object.getOwnPropertyDescriptor(globalThis, "location");
    Object.defineProperty(globalThis, "location", {
      value: { assign: (href) => went.push(href) },
      configurable: true,
    });
    try {
      const auth = new AuthClient({ baseUrl: "https://auth.example.test" });
      auth.signInWith("google", { returnTo: "/settings", maxAge: 0 });
      auth.signInWith("google");
    } finally {
      if (saved) Object.defineProperty(globalThis, "location", saved);
      else delete globalThis.location;
    }
    assert.deepEqual(went, [
      "https://auth.example.test/auth/google/start?return_to=%2Fsettings&max_age=0",
      "https://auth.example.test/auth/google/start",
    ]);
  });
});
