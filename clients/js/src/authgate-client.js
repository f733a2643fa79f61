// authgate-client.js: the browser side of authgate's session flow, one dependency-free ES
// module: the npm package @authgate/client, and what authgate serves at /auth/client.js.
//
//   import { AuthClient } from "https://auth.example.com/auth/client.js";
//   const auth = new AuthClient({ onSignOut: () => showLogin() });
//   if (!(await auth.restore())) await auth.login(email, password);
//   const orders = await (await auth.fetch("/api/orders")).json();
//
// The access token lives in this object's memory only: never in localStorage, sessionStorage,
// a cookie readable by script or a URL, where any script or log could pick it up (OWASP HTML5
// Security Cheat Sheet, "Local Storage"; RFC 9700 §4.3.2). The refresh token is the
// HttpOnly cookie the browser sends to /auth/refresh by itself, so a reload or a new tab gets
// its access token back from there (`restore`).
//
// Second factors: `login` throws `MfaRequired` when the account has one, and `loginMfa`
// completes it with a code; `signInWithPasskey` signs in with a passkey alone.
//
// Step-up (RFC 9470): sensitive actions (second factors, the password, the account) need a
// recent proof of the user. authgate answers them 401 `insufficient_user_authentication`;
// with an `onStepUp` hook the client asks the app to ask the user ("confirm it's you"),
// proves it with `POST /auth/reauthenticate`, and sends the request once more.

const JSON_TYPE = "application/json";

/** A problem answered by authgate (RFC 9457): `status`, its stable `code`, `detail`, and
 * for validation failures the per-field `errors`. */
export class AuthError extends Error {
  constructor(status, problem) {
    super(problem?.detail || problem?.title || `HTTP ${status}`);
    this.name = "AuthError";
    this.status = status;
    this.code = problem?.code ?? null;
    this.errors = problem?.errors ?? [];
    this.problem = problem ?? null;
  }
}

/** `login`'s answer for an account with a second factor: the password was right, and the
 * sign-in completes with `loginMfa(error.mfaToken, …)` (5 minutes, single use) or, when
 * `methods` includes "passkey", with `signInWithPasskey()`. No session exists until then. */
export class MfaRequired extends AuthError {
  constructor(status, problem) {
    super(status, problem);
    this.name = "MfaRequired";
    this.mfaToken = problem.mfa_token;
    this.methods = problem.methods ?? [];
  }
}

/** What a sensitive action asks for: a proof at most `maxAge` seconds old, and, when
 * `acrValues` is "aal2", two factors (the password and the app's code, or a passkey). */
export class StepUpRequired extends AuthError {
  constructor(status, problem) {
    super(status, problem);
    this.name = "StepUpRequired";
    this.maxAge = problem.max_age ?? null;
    this.acrValues = problem.acr_values ?? null;
  }
}

/**
 * Events: `signedin` (a login, a registration, or a refresh that found a session; detail
 * `{ user }` when the answer carried one), `refreshed` (a new access token for the same
 * session), and `signedout` (detail `{ reason }`: "logout", "revoked", "password_reset", "account_secured", or
 * the refresh's problem code such as "invalid_refresh_token" or "refresh_token_reused").
 */
export class AuthClient extends EventTarget {
  #baseUrl;
  #origins;
  #fetch;
  #refreshAhead;
  #token = null;
  #refreshAt = 0;
  #refreshing = null;
  #onStepUp;
  // Counts sign-ins and sign-outs, so an answer that arrives after a newer one is not applied.
  #generation = 0;

  /**
   * @param {object} [options]
   * @param {string} [options.baseUrl] where authgate answers; by default the origin this
   *   module was loaded from, so importing it from authgate needs no setting.
   * @param {string[]} [options.apiOrigins] other origins `fetch` may send the access token to
   *   (your APIs); requests anywhere else go out without it.
   * @param {number} [options.refreshAheadSeconds] refresh this long before the token expires
   *   (at most a quarter of its lifetime), so calls rarely meet an expired token.
   * @param {(reason: string) => void} [options.onSignOut] called with `signedout` events.
   * @param {(challenge: StepUpRequired) => Promise<object | null>} [options.onStepUp] asked
   *   when a sensitive action needs a fresh proof: resolve with `{ password }`, `{ password,
   *   code }`, `{ password, recoveryCode }` or `{ passkey: true }` (what the user gave), or
   *   null to give up (the call then resolves with the 401). Without it, that 401 is the
   *   answer and the app may call `reauthenticate` itself.
   * @param {typeof fetch} [options.fetch] the fetch to use.
   */
  constructor({
    baseUrl = new URL(import.meta.url).origin,
    apiOrigins = [],
    refreshAheadSeconds = 30,
    onSignOut,
    onStepUp,
    fetch: fetchImpl = globalThis.fetch.bind(globalThis),
  } = {}) {
    super();
    this.#onStepUp = onStepUp ?? null;
    this.#baseUrl = baseUrl.replace(/\/+$/, "");
    this.#origins = new Set([new URL(this.#baseUrl).origin, ...apiOrigins.map((o) => new URL(o).origin)]);
    this.#fetch = fetchImpl;
    this.#refreshAhead = refreshAheadSeconds;
    if (onSignOut) this.addEventListener("signedout", (event) => onSignOut(event.detail.reason));
  }

  /** Whether an access token is held (it may still be refused if the session ended elsewhere). */
  get signedIn() {
    return this.#token !== null;
  }

  // -- the session ------------------------------------------------------------------------

  /** On page load: get an access token from the refresh cookie. True when signed in. */
  async restore() {
    return this.refresh();
  }

  /** Rotate the refresh cookie for a new access token. Concurrent callers share one request
   * (single flight): two calls must not spend the same refresh token twice. True when signed
   * in; false (and `signedout` if there was a session) when the server refused the cookie;
   * throws an AuthError when the server could not answer (429, 503), the session intact. */
  refresh() {
    this.#refreshing ??= this.#rotate().finally(() => {
      this.#refreshing = null;
    });
    return this.#refreshing;
  }

  async register({ email, password, name, turnstileToken } = {}) {
    const body = { email, password };
    if (name) body.name = name;
    if (turnstileToken) body.turnstile_token = turnstileToken;
    const answer = await this.#post("/auth/register", body, { cookies: true });
    if (answer.access_token) this.#accept(answer);
    // Under AUTH_REQUIRE_VERIFIED_EMAIL the account waits for its mail: no session yet.
    return { user: answer.user, emailVerificationRequired: Boolean(answer.email_verification_required) };
  }

  /** Sign up with a passkey and no password: the browser makes a passkey for this site (it
   * asks for the PIN or biometric) and the account opens with it, signed in. Answers as
   * `register`; a taken address throws `email_taken` before the browser asks anything, a
   * dismissed prompt rejects with its DOMException ("NotAllowedError"). */
  async signUpWithPasskey({ email, name, turnstileToken } = {}) {
    const start = { email };
    if (name) start.name = name;
    if (turnstileToken) start.turnstile_token = turnstileToken;
    const options = await this.#post("/auth/passkeys/signup/options", start);
    const credential = await navigator.credentials.create({
      publicKey: PublicKeyCredential.parseCreationOptionsFromJSON(options),
    });
    const body = { credential: credential.toJSON() };
    const answer = await this.#post("/auth/passkeys/signup/verify", body, { cookies: true });
    if (answer.access_token) this.#accept(answer);
    return { user: answer.user, emailVerificationRequired: Boolean(answer.email_verification_required) };
  }

  /** Resolves with the user; throws `MfaRequired` when the account asks for a second factor,
   * an AuthError with `.code` when refused. */
  async login(email, password) {
    const answer = await this.#post("/auth/login", { email, password }, { cookies: true });
    this.#accept(answer);
    return answer.user;
  }

  /** The second step of a password sign-in: `{ code }` from the authenticator app, or
   * `{ recoveryCode }`. A wrong code throws `invalid_mfa_code` and the token may be tried
   * again; `invalid_mfa_token` (expired, used, or five wrong codes) means signing in again.
   * Back from an identity provider with `?mfa=required`, pass no token (`undefined`): an
   * HttpOnly cookie that only this step receives holds it. */
  async loginMfa(mfaToken, { code, recoveryCode } = {}) {
    const body = { mfa_token: mfaToken, code, recovery_code: recoveryCode };
    const answer = await this.#post("/auth/login/mfa", body, { cookies: true });
    this.#accept(answer);
    return answer.user;
  }

  /** Sign in with a passkey this device holds for the site: no email, no password and no
   * second step (the device and its PIN or biometric are two factors). The browser asks
   * which passkey; a dismissed prompt rejects with its DOMException ("NotAllowedError"). */
  async signInWithPasskey() {
    const options = await this.#call("/auth/passkeys/login/options", { method: "POST" });
    const credential = await navigator.credentials.get({
      publicKey: PublicKeyCredential.parseRequestOptionsFromJSON(options),
    });
    const body = { credential: credential.toJSON() };
    const answer = await this.#post("/auth/passkeys/login/verify", body, { cookies: true });
    this.#accept(answer);
    return answer.user;
  }

  /** Mail a 6-digit code and a link (AUTH_EMAIL_SIGNIN=true). Resolves the same way whether
   * or not the address has an account. The code will work in this browser only: the answer
   * leaves an HttpOnly cookie that binds it here. */
  async requestEmailSignIn(email, { turnstileToken } = {}) {
    const body = { email };
    if (turnstileToken) body.turnstile_token = turnstileToken;
    await this.#post("/auth/email/signin/request", body, { cookies: true });
  }

  /** The code from the mail, in the browser that asked for it. A wrong, expired or spent code
   * throws `invalid_email_code` (the fifth wrong one ends it: ask for a new mail); an account
   * with a second factor throws `MfaRequired`, completed with `loginMfa`. */
  async signInWithEmailCode(email, code) {
    const answer = await this.#post("/auth/email/signin", { email, code }, { cookies: true });
    this.#accept(answer);
    return answer.user;
  }

  /** The token of the mailed link, on any device (the page the link opens calls this). */
  async signInWithEmailLink(token) {
    const answer = await this.#post("/auth/email/signin", { token }, { cookies: true });
    this.#accept(answer);
    return answer.user;
  }

  /** Sign in with an identity provider ("google", or an AUTH_OIDC_<NAME> name): the browser
   * leaves for the provider and comes back to the app with the refresh cookie set; the page
   * it lands on calls `restore()`. No token ever travels in the URL. */
  signInWith(provider, { returnTo, maxAge } = {}) {
    const start = new URL(`${this.#baseUrl}/auth/${encodeURIComponent(provider)}/start`);
    if (returnTo) start.searchParams.set("return_to", returnTo);
    // A recent proof (step-up without a password or passkey): the provider signs the user
    // in again if their last sign-in there is older than this many seconds.
    if (maxAge !== undefined && maxAge !== null) start.searchParams.set("max_age", String(maxAge));
    globalThis.location.assign(start.href);
  }

  /** End this session (idempotent): the server drops the refresh grant and clears the cookie,
   * and the access token is refused at once. */
  async logout() {
    const headers = this.#token ? { Authorization: `Bearer ${this.#token}` } : {};
    try {
      await this.#call("/auth/logout", { method: "POST", credentials: "include", headers });
    } finally {
      this.#signOut("logout");
    }
  }

  /** Sign out everywhere: every session of the user ends; with `keepCurrent`, all but this one. */
  async logoutEverywhere({ keepCurrent = false } = {}) {
    await this.#authorized("/auth/revoke", { method: "POST", body: { keep_current: keepCurrent } });
    if (!keepCurrent) this.#signOut("revoked");
  }

  // -- the account ------------------------------------------------------------------------

  async me() {
    return (await this.#authorized("/auth/me")).user;
  }

  /** The user's live sessions (devices), `current` marking this one. */
  async sessions() {
    return (await this.#authorized("/auth/sessions")).sessions;
  }

  /** End one of the user's sessions (a device); this one's end shows at the next call. */
  async revokeSession(id) {
    await this.#authorized(`/auth/sessions/${encodeURIComponent(id)}`, { method: "DELETE" });
  }

  /** The user's security activity, newest first: `{ activity, nextCursor }`; pass
   * `nextCursor` back as `cursor` for the older page (`null` on the last one). */
  async activity({ limit, cursor } = {}) {
    const query = new URLSearchParams();
    if (limit !== undefined) query.set("limit", String(limit));
    if (cursor) query.set("cursor", cursor);
    const suffix = query.size ? `?${query}` : "";
    const answer = await this.#authorized(`/auth/activity${suffix}`);
    return { activity: answer.activity, nextCursor: answer.next_cursor };
  }

  /** Everything the service keeps about the account, as one document (nothing secret in
   * it). A sensitive action: without a recent proof it goes through `onStepUp`. */
  async exportAccount() {
    return this.#authorized("/auth/account/export");
  }

  /** Delete the account and everything kept about it; every session ends, this one too.
   * A sensitive action: without a recent proof it goes through `onStepUp`. */
  async deleteAccount() {
    await this.#authorized("/auth/account", { method: "DELETE" });
    this.#signOut("account_deleted");
  }

  async requestVerificationEmail() {
    await this.#authorized("/auth/email/verify/request", { method: "POST" });
  }

  /** The token from the mailed link; returns the user, now with `email_verified: true`. */
  async verifyEmail(token) {
    return (await this.#post("/auth/email/verify", { token })).user;
  }

  /** Mails a confirmation link to the new address (step-up applies); nothing changes
   * until it is opened. */
  async requestEmailChange(email) {
    await this.#authorized("/auth/email/change/request", { method: "POST", body: { email } });
  }

  /** The token from the link mailed to the new address; returns the user with it. */
  async changeEmail(token) {
    return (await this.#post("/auth/email/change", { token })).user;
  }

  /** Always resolves the same way, whether or not the address has an account. */
  async forgotPassword(email, { turnstileToken } = {}) {
    const body = { email };
    if (turnstileToken) body.turnstile_token = turnstileToken;
    await this.#post("/auth/password/forgot", body);
  }

  /** The token from the mailed link and the new password; every session of the account
   * ends, this one included. */
  async resetPassword(token, newPassword) {
    await this.#post("/auth/password/reset", { token, new_password: newPassword });
    this.#signOut("password_reset");
  }

  /** "This wasn't me": the token of a new-device notice's link. Every session of the account
   * ends, this one included, and the password stops working until it is reset by mail. */
  async secureAccount(token) {
    await this.#post("/auth/account/secure", { token });
    this.#signOut("account_secured");
  }

  async changePassword(currentPassword, newPassword) {
    await this.#authorized("/auth/password/change", {
      method: "POST",
      body: { current_password: currentPassword, new_password: newPassword },
    });
  }

  /** A first password for an account without one (a passkey-first or provider account);
   * `password_already_set` when it has one: use `changePassword`. Every other session ends. */
  async setPassword(newPassword) {
    await this.#authorized("/auth/password/set", {
      method: "POST",
      body: { new_password: newPassword },
    });
  }

  // -- second factors ---------------------------------------------------------------------

  /** Whether this browser can make and use passkeys here: WebAuthn Level 3's JSON methods
   * (`PublicKeyCredential.parseCreationOptionsFromJSON`) in a secure context. */
  static get passkeysSupported() {
    const credential = globalThis.PublicKeyCredential;
    return (
      globalThis.isSecureContext === true &&
      typeof credential?.parseCreationOptionsFromJSON === "function" &&
      typeof credential.parseRequestOptionsFromJSON === "function"
    );
  }

  /** `{ totp, recoveryCodesLeft, passkeys, password }`: whether the authenticator app is on,
   * how many unused recovery codes are left, how many passkeys there are, and whether the
   * account has a password (one without may `setPassword`). */
  async secondFactors() {
    const answer = await this.#authorized("/auth/mfa");
    return {
      totp: answer.totp,
      recoveryCodesLeft: answer.recovery_codes_left,
      passkeys: answer.passkeys,
      password: answer.password,
    };
  }

  /** A new authenticator-app secret, not active until `totpConfirm`: show `otpauthUri` as a
   * QR code, and `secret` for typing in. */
  async totpSetup() {
    const answer = await this.#authorized("/auth/mfa/totp/setup", { method: "POST" });
    return { secret: answer.secret, otpauthUri: answer.otpauth_uri };
  }

  /** The app's first code turns it on; resolves with the ten recovery codes, shown this once.
   * The right code is a second factor shown just now: the session is aal2 from here on. */
  async totpConfirm(code) {
    const answer = await this.#authorized("/auth/mfa/totp/confirm", { method: "POST", body: { code } });
    this.#accept(answer, "refreshed");
    return answer.recovery_codes;
  }

  /** Ten new recovery codes for a current code of the app; the old ones stop working. */
  async regenerateRecoveryCodes(code) {
    const answer = await this.#authorized("/auth/mfa/recovery-codes", { method: "POST", body: { code } });
    return answer.recovery_codes;
  }

  /** Turn the app off (its recovery codes too), with `{ password }` or a current `{ code }`. */
  async totpDisable({ password, code } = {}) {
    await this.#authorized("/auth/mfa/totp", { method: "DELETE", body: { password, code } });
  }

  /** Make a passkey on this device (the browser asks for the PIN or biometric) and register
   * it; resolves with `{ id, name, created_at, last_used_at, transports }`. */
  async addPasskey(name) {
    const options = await this.#authorized("/auth/passkeys/register/options", { method: "POST" });
    const credential = await navigator.credentials.create({
      publicKey: PublicKeyCredential.parseCreationOptionsFromJSON(options),
    });
    const body = { credential: credential.toJSON(), name: name || undefined };
    return (await this.#authorized("/auth/passkeys/register/verify", { method: "POST", body })).passkey;
  }

  /** The user's passkeys, oldest first. */
  async passkeys() {
    return (await this.#authorized("/auth/passkeys")).passkeys;
  }

  async removePasskey(id) {
    await this.#authorized(`/auth/passkeys/${encodeURIComponent(id)}`, { method: "DELETE" });
  }

  // -- proving it again (step-up) ----------------------------------------------------------

  /** Prove it's you again without a new session: `{ password }` (with `code` or
   * `recoveryCode` when the account has an app), or `{ passkey: true }` (the browser asks for
   * a passkey of this account). Resolves with `{ authTime, amr, acr }`; a wrong proof throws
   * as a login would (`invalid_credentials`, `invalid_mfa_code`, `invalid_passkey`). */
  async reauthenticate({ password, code, recoveryCode, passkey } = {}) {
    let body = { password, code, recovery_code: recoveryCode };
    if (passkey) {
      const options = await this.#authorized("/auth/passkeys/reauthenticate/options", { method: "POST" });
      const credential = await navigator.credentials.get({
        publicKey: PublicKeyCredential.parseRequestOptionsFromJSON(options),
      });
      body = { credential: credential.toJSON() };
    }
    const answer = await this.#authorized("/auth/reauthenticate", { method: "POST", body });
    this.#accept(answer, "refreshed");
    return { authTime: answer.auth_time, amr: answer.amr, acr: answer.acr };
  }

  // -- calling APIs -----------------------------------------------------------------------

  /**
   * `fetch` with the access token: refreshed first when it is about to expire, and on a 401
   * refreshed once and the request retried once. The token goes only to authgate's origin and
   * `apiOrigins`. Resolves with the Response like `fetch`; after a failed refresh that is the
   * 401, and `signedout` has fired. A 401 `insufficient_user_authentication` goes to
   * `onStepUp`, and once the user proved it, the request goes once more.
   */
  async fetch(input, init) {
    const request = new Request(input, init);
    if (!this.#origins.has(new URL(request.url).origin)) return this.#fetch(request);
    if (this.#token === null || Date.now() >= this.#refreshAt) await this.#refreshQuietly();
    const token = this.#token;
    const response = await this.#send(request, token);
    if (response.status !== 401 || token === null) return response;
    // Only our origins' 401s are heeded: one from a third party reached through a redirect
    // (an open redirect on an API) must not spend a refresh, nor ask the user to prove it
    // again (their password going to /auth/reauthenticate for a stranger's challenge).
    if (!this.#origins.has(new URL(response.url || request.url).origin)) return response;
    const stepUp = await stepUpOf(response);
    if (stepUp !== null) return this.#steppedUp(request, response, stepUp);
    if (!(await refusesToken(response))) return response;
    // Another call may have refreshed meanwhile: then its token is the one to retry with.
    if (this.#token === token) await this.#refreshQuietly();
    if (this.#token === null || this.#token === token) return response;
    return this.#send(request, this.#token);
  }

  // -- inside -----------------------------------------------------------------------------

  async #steppedUp(request, refused, challenge) {
    if (this.#onStepUp === null) return refused;
    const proof = await this.#onStepUp(challenge);
    if (!proof) return refused;
    await this.reauthenticate(proof);
    return this.#send(request, this.#token);
  }

  async #rotate() {
    const started = this.#generation;
    const response = await this.#fetch(this.#url("/auth/refresh"), {
      method: "POST",
      credentials: "include",
      headers: { Accept: JSON_TYPE },
    });
    // A login (or logout) answered meanwhile: its outcome is newer than this refresh's.
    if (this.#generation !== started) return this.#token !== null;
    if (response.ok) {
      this.#accept(await response.json(), this.#token === null ? "signedin" : "refreshed");
      return true;
    }
    const error = await errorOf(response);
    if (response.status !== 401) throw error;
    this.#signOut(error.code ?? "invalid_refresh_token");
    return false;
  }

  /** A refresh whose transient failure (network, 429, 503) leaves the current token to try. */
  async #refreshQuietly() {
    try {
      await this.refresh();
    } catch {
      // The call goes out with the token held; a 401 then is the caller's answer.
    }
  }

  #accept(answer, event = "signedin") {
    const lifetime = Number(answer.expires_in) || 0;
    const ahead = Math.min(this.#refreshAhead, lifetime / 4);
    this.#generation += 1;
    this.#token = answer.access_token;
    this.#refreshAt = Date.now() + (lifetime - ahead) * 1000;
    this.dispatchEvent(new CustomEvent(event, { detail: answer.user ? { user: answer.user } : {} }));
  }

  #signOut(reason) {
    const wasSignedIn = this.#token !== null;
    this.#generation += 1;
    this.#token = null;
    this.#refreshAt = 0;
    if (wasSignedIn) this.dispatchEvent(new CustomEvent("signedout", { detail: { reason } }));
  }

  #send(request, token) {
    const attempt = request.clone();
    if (token !== null) attempt.headers.set("Authorization", `Bearer ${token}`);
    return this.#fetch(attempt);
  }

  async #authorized(path, { method = "GET", body } = {}) {
    const init = { method, headers: { Accept: JSON_TYPE } };
    if (body !== undefined) {
      init.headers["Content-Type"] = JSON_TYPE;
      init.body = JSON.stringify(body);
    }
    return readAnswer(await this.fetch(this.#url(path), init));
  }

  #post(path, body, { cookies = false } = {}) {
    return this.#call(path, {
      method: "POST",
      credentials: cookies ? "include" : "same-origin",
      headers: { "Content-Type": JSON_TYPE },
      body: JSON.stringify(body),
    });
  }

  async #call(path, init) {
    const headers = { Accept: JSON_TYPE, ...init.headers };
    return readAnswer(await this.#fetch(this.#url(path), { ...init, headers }));
  }

  #url(path) {
    return this.#baseUrl + path;
  }
}

async function readAnswer(response) {
  if (!response.ok) throw await errorOf(response);
  if (response.status === 204) return {};
  const type = response.headers.get("Content-Type") ?? "";
  return type.includes("json") ? response.json() : {};
}

async function errorOf(response) {
  let problem = null;
  try {
    problem = await response.json();
  } catch {
    // Not a problem document (a proxy's error page): the status says enough.
  }
  if (problem?.code === "mfa_required") return new MfaRequired(response.status, problem);
  return new AuthError(response.status, problem);
}

/** The challenge of a 401 `insufficient_user_authentication` (RFC 9470), else null. */
async function stepUpOf(response) {
  try {
    const problem = await response.clone().json();
    return problem?.code === "insufficient_user_authentication"
      ? new StepUpRequired(response.status, problem)
      : null;
  } catch {
    return null;
  }
}

/** A 401 that refuses the access token, as opposed to one refusing, say, a wrong current
 * password: authgate says `invalid_token`; another API's 401 without a problem code counts. */
async function refusesToken(response) {
  try {
    const problem = await response.clone().json();
    return !problem?.code || problem.code === "invalid_token";
  } catch {
    return true;
  }
}
