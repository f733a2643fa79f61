// The demo app: every page of /demo, driven by the browser client. No token is ever written
// anywhere but the client's memory; the mailed links' tokens leave the address bar at once.
import { MfaRequired } from "/auth/client.js";
import { clearActivity, renderActivity, wireAccount } from "/demo/account.js";
import {
  askSecondFactor,
  askSecondFactorAfterProvider,
  clearSecondFactors,
  renderSecondFactors,
  wireSecondFactors,
} from "/demo/second-factor.js";
import { attempt, auth, byId, formatTime, notify, onSubmit } from "/demo/ui.js";

const TURNSTILE_SCRIPT = "https://challenges.cloudflare.com/turnstile/v0/api.js?render=explicit";
const SIGNED_OUT_BECAUSE = {
  logout: "You signed out.",
  revoked: "You signed out everywhere.",
  password_reset: "Your password changed: sign in with the new one.",
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

const pages = { home, "verify-email": verifyEmail, "reset-password": resetPassword };
pages[document.body.dataset.page]();
