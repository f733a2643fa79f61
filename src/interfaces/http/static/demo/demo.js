// The demo app: every page of /demo, driven by the browser client. No token is ever written
// anywhere but the client's memory; the mailed links' tokens leave the address bar at once.
import { MfaRequired } from "/auth/client.js";
import { clearActivity, renderActivity, wireAccount } from "/demo/account.js";
import {
  askSecondFactor,
  askSecondFactorAfterProvider,
  clearSecondFactors,
  passkeysWorkHere,
  renderSecondFactors,
  wireSecondFactors,
} from "/demo/second-factor.js";
import { attempt, auth, byId, formatTime, notify, onClick, onSubmit } from "/demo/ui.js";

const TURNSTILE_SCRIPT = "https://challenges.cloudflare.com/turnstile/v0/api.js?render=explicit";
const SIGNED_OUT_BECAUSE = {
  logout: "You signed out.",
  revoked: "You signed out everywhere.",
  password_reset: "Your password changed: sign in with the new one.",
  account_secured: "The account is secured: every session ended. Choose a new password from the mail.",
  refresh_token_reused:
    "This session was ended: its refresh token was presented twice, as a stolen copy would be. Sign in again.",
  account_deleted: "Your account is deleted, with everything kept about it. The address can sign up again.",
};
const SESSION_ENDED = "Your session ended (signed out elsewhere, revoked or expired). Sign in again.";

// -- Turnstile (only with AUTH_TURNSTILE_SITE_KEY) -------------------------------------------

const widgets = new Map();

function loadTurnstile(siteKey) {
  const containers = document.querySelectorAll(".turnstile");
  if (!siteKey || containers.length === 0) return;
  const script = document.createElement("script");
  script.src = TURNSTILE_SCRIPT;
  script.async = true;
  script.addEventListener("load", () => {
    for (const container of containers) {
      const id = globalThis.turnstile.render(container, {
        sitekey: siteKey,
        action: container.dataset.action,
      });
      widgets.set(container.closest("form"), id);
    }
  });
  document.head.append(script);
}

/** The form's Turnstile token (spent by one request, so the widget starts over). */
function turnstileToken(form) {
  const id = widgets.get(form);
  if (id === undefined) return undefined;
  const token = globalThis.turnstile.getResponse(id);
  globalThis.turnstile.reset(id);
  return token || undefined;
}

// -- the home page ---------------------------------------------------------------------------

const BROWSERS = [
  [/Edg\/(\d+)/, "Edge"],
  [/OPR\/(\d+)/, "Opera"],
  [/Firefox\/(\d+)/, "Firefox"],
  [/HeadlessChrome\/(\d+)/, "Headless Chrome"],
  [/Chrom(?:e|ium)\/(\d+)/, "Chrome"],
  [/Version\/(\d+).*Safari/, "Safari"],
];
const SYSTEMS = [
  [/Android/, "Android"],
  [/iPhone|iPad/, "iOS"],
  [/Windows/, "Windows"],
  [/Mac OS X/, "macOS"],
  [/CrOS/, "ChromeOS"],
  [/Linux/, "Linux"],
];

/** "Chrome 141 on Linux" from a user agent; the whole string stays in the cell's title. */
function describeDevice(userAgent) {
  if (!userAgent) return "Unknown device";
  const browser = BROWSERS.map(([pattern, name]) => [userAgent.match(pattern), name]).find(([found]) => found);
  const system = SYSTEMS.find(([pattern]) => pattern.test(userAgent));
  if (!browser) return userAgent.slice(0, 40);
  return `${browser[1]} ${browser[0][1]}${system ? ` on ${system[1]}` : ""}`;
}

function showSignedOut() {
  byId("signed-in").hidden = true;
  byId("signed-out").hidden = false;
  byId("status").textContent = "Signed out";
  clearSecondFactors();
  clearActivity();
}

async function showSignedIn() {
  const user = await auth.me();
  byId("signed-out").hidden = true;
  byId("signed-in").hidden = false;
  byId("status").textContent = `Signed in as ${user.email}`;
  renderUser(user);
  await renderSessions();
  await renderSecondFactors();
  await renderActivity();
}

function renderUser(user) {
  byId("profile-email").textContent = user.email;
  byId("profile-name").textContent = user.name ?? "—";
  byId("profile-role").textContent = user.role;
  byId("profile-verified").textContent = user.email_verified ? "yes" : "not yet";
  byId("profile-created").textContent = formatTime(user.created_at);
  byId("resend-verification").hidden = user.email_verified;
  byId("me-json").textContent = JSON.stringify({ user }, null, 2);
}

async function renderSessions() {
  const rows = (await auth.sessions()).map((session) => {
    const row = document.createElement("tr");
    row.dataset.sessionId = session.id;
    row.classList.toggle("current", session.current);
    const device = describeDevice(session.user_agent);
    const cells = [
      session.current ? `${device} (this device)` : device,
      session.ip_address ?? "—",
      formatTime(session.created_at),
      formatTime(session.last_used_at),
    ];
    for (const text of cells) {
      const cell = document.createElement("td");
      cell.textContent = text;
      row.append(cell);
    }
    row.cells[0].title = session.user_agent ?? "";
    const revoke = document.createElement("button");
    revoke.type = "button";
    revoke.textContent = "Revoke";
    revoke.addEventListener("click", () =>
      attempt(async () => {
        await auth.revokeSession(session.id);
        notify(session.current ? "This device's session is revoked." : "That device is signed out.");
        await renderSessions();
      }),
    );
    const action = document.createElement("td");
    action.append(revoke);
    row.append(action);
    return row;
  });
  byId("sessions").tBodies[0].replaceChildren(...rows);
}

function renderProviders(names) {
  const list = byId("providers");
  for (const name of names) {
    const button = document.createElement("button");
    button.type = "button";
    button.dataset.provider = name;
    button.textContent = `Sign in with ${name.charAt(0).toUpperCase()}${name.slice(1)}`;
    button.addEventListener("click", () => auth.signInWith(name));
    list.append(button);
  }
}

async function home() {
  const { turnstileSiteKey, providers } = document.body.dataset;
  renderProviders(providers.split(" ").filter(Boolean));
  loadTurnstile(turnstileSiteKey);

  auth.addEventListener("signedout", (event) => {
    showSignedOut();
    notify(SIGNED_OUT_BECAUSE[event.detail.reason] ?? SESSION_ENDED, "warning");
  });

  onSubmit(byId("login-form"), async ({ email, password }, form) => {
    try {
      await auth.login(email, password);
    } catch (error) {
      if (!(error instanceof MfaRequired)) throw error;
      form.reset();
      askSecondFactor(error);
      return;
    }
    form.reset();
    notify("");
    await showSignedIn();
  });
  wireSecondFactors({ onSignedIn: showSignedIn });
  wireAccount();
  onSubmit(byId("register-form"), async ({ name, email, password }, form) => {
    const turnstile = turnstileToken(form);
    const { emailVerificationRequired } = await auth.register({ name, email, password, turnstileToken: turnstile });
    form.reset();
    if (emailVerificationRequired) {
      notify(`Account created: open the link mailed to ${email}, then log in.`);
      return;
    }
    notify(`Welcome! A link to verify ${email} is on its way.`);
    await showSignedIn();
  });
  wireEmailSignIn(document.body.dataset.emailSignin === "true");
  wirePasskeySignUp();
  onSubmit(byId("password-set-form"), async ({ password }, form) => {
    // A sensitive action: the client's step-up hook asks "Confirm it's you" when the
    // sign-in is too old (a passkey-only account answers with its passkey).
    await auth.setPassword(password);
    form.reset();
    notify("Your password is set: sign in with your email and it, or with your passkey.", "success");
    await renderSecondFactors();
  });
  onSubmit(byId("forgot-form"), async ({ email }, form) => {
    await auth.forgotPassword(email, { turnstileToken: turnstileToken(form) });
    notify(`If ${email} has an account, a reset link is on its way.`);
  });

  byId("call-me").addEventListener("click", () =>
    attempt(async () => {
      if (!auth.signedIn && !(await auth.restore())) return;
      renderUser(await auth.me());
      await renderSessions();
      notify("GET /auth/me answered.");
    }),
  );
  byId("resend-verification").addEventListener("click", () =>
    attempt(async () => {
      await auth.requestVerificationEmail();
      notify("A new verification link is on its way.");
    }),
  );
  byId("logout").addEventListener("click", () => attempt(() => auth.logout()));
  byId("logout-everywhere").addEventListener("click", () => attempt(() => auth.logoutEverywhere()));

  // The HttpOnly cookie survives a reload and is shared by every tab: ask it for a session.
  let restored = false;
  await attempt(async () => {
    restored = await auth.restore();
  });
  if (restored) await attempt(showSignedIn);
  else {
    showSignedOut();
    askSecondFactorAfterProvider();
  }
}

/** "Email me a code": the code works in this browser only (an HttpOnly cookie binds it). */
function wireEmailSignIn(enabled) {
  byId("email-sign-in").hidden = !enabled;
  if (!enabled) return;
  const codeForm = byId("email-code-form");
  onSubmit(byId("email-code-request-form"), async ({ email }, form) => {
    await auth.requestEmailSignIn(email, { turnstileToken: turnstileToken(form) });
    codeForm.elements.email.value = email;
    codeForm.hidden = false;
    codeForm.elements.code.focus();
    notify(`If ${email} has an account, a code and a link are on their way.`);
  });
  onSubmit(codeForm, async ({ email, code }) => {
    try {
      await auth.signInWithEmailCode(email, code);
    } catch (error) {
      if (!(error instanceof MfaRequired)) throw error;
      codeForm.reset();
      codeForm.hidden = true;
      askSecondFactor(error, "Your code is right.");
      return;
    }
    codeForm.reset();
    codeForm.hidden = true;
    notify("");
    await showSignedIn();
  });
}

/** "Sign up with a passkey": the register form's name and email, no password. */
function wirePasskeySignUp() {
  const form = byId("register-form");
  const button = byId("passkey-sign-up");
  button.hidden = !passkeysWorkHere();
  byId("passkey-sign-up-hint").hidden = button.hidden;
  onClick(button, async () => {
    if (!form.elements.email.reportValidity()) return;
    const { name, email } = Object.fromEntries(new FormData(form));
    const { emailVerificationRequired } = await auth.signUpWithPasskey({
      name,
      email,
      turnstileToken: turnstileToken(form),
    });
    form.reset();
    if (emailVerificationRequired) {
      notify(`Account created: open the link mailed to ${email}, then sign in with your passkey.`);
      return;
    }
    notify(`Welcome! Your passkey signs you in. A link to verify ${email} is on its way.`);
    await showSignedIn();
  });
}

// -- the mailed links' pages -------------------------------------------------------------------

/** The link's token, taken out of the address bar and the history entry at once. */
function takeToken() {
  const token = new URLSearchParams(globalThis.location.search).get("token");
  globalThis.history.replaceState(null, "", globalThis.location.pathname);
  return token;
}

async function verifyEmail() {
  const token = takeToken();
  if (!token) {
    notify("This link carries no token: open the link from the mail as it is.", "error");
    return;
  }
  await attempt(async () => {
    const user = await auth.verifyEmail(token);
    notify(`${user.email} is verified. Thank you!`, "success");
  });
}

async function changeEmail() {
  const token = takeToken();
  if (!token) {
    notify("This link carries no token: open the link from the mail as it is.", "error");
    return;
  }
  await attempt(async () => {
    const user = await auth.changeEmail(token);
    notify(`The account's address is now ${user.email}.`, "success");
  });
}

function resetPassword() {
  const token = takeToken();
  const form = byId("reset-form");
  if (!token) {
    form.hidden = true;
    notify("This link carries no token: open the link from the mail as it is.", "error");
    return;
  }
  onSubmit(form, async ({ password }) => {
    await auth.resetPassword(token, password);
    form.hidden = true;
    notify("Your password is set, and every session of the account is signed out. Log in with it.", "success");
  });
}

/** The sign-in link: a button, not a sign-in on load, so a mail scanner that opens links
 * signs nothing in. */
function emailSignIn() {
  const token = takeToken();
  const button = byId("email-link-sign-in");
  if (!token) {
    button.hidden = true;
    notify("This link carries no token: open the link from the mail as it is.", "error");
    return;
  }
  const signedIn = (user) => {
    button.hidden = true;
    notify(`Signed in as ${user.email}. Open the demo to go on.`, "success");
  };
  onClick(button, async () => {
    try {
      signedIn(await auth.signInWithEmailLink(token));
    } catch (error) {
      if (!(error instanceof MfaRequired)) throw error;
      button.hidden = true;
      const form = byId("mfa-form");
      form.hidden = false;
      notify("The link is right. Now a code from your authenticator app, or a recovery code.");
      onSubmit(form, async ({ code }) => {
        const proof = /^\d{6}$/.test(code.trim()) ? { code } : { recoveryCode: code };
        signedIn(await auth.loginMfa(error.mfaToken, proof));
        form.hidden = true;
      });
    }
  });
}

/** "This wasn't me": one click ends every session and blocks the password until a reset. */
function secureAccount() {
  const token = takeToken();
  const button = byId("secure-account");
  if (!token) {
    button.hidden = true;
    notify("This link carries no token: open the link from the mail as it is.", "error");
    return;
  }
  onClick(button, async () => {
    await auth.secureAccount(token);
    button.hidden = true;
    notify(
      "Done: the account is signed out everywhere and its password no longer works. Choose a new one with the link we just mailed you.",
      "success",
    );
  });
}

const pages = {
  home,
  "verify-email": verifyEmail,
  "change-email": changeEmail,
  "reset-password": resetPassword,
  "email-sign-in": emailSignIn,
  "secure-account": secureAccount,
};
pages[document.body.dataset.page]();
