// The second factor in the demo: the code step of a password sign-in, signing in with a
// passkey, and, signed in, the authenticator app, its recovery codes and the passkeys. The
// app's QR code is drawn here by a vendored encoder: the secret in it goes to no other service.
import { AuthClient, AuthError } from "/auth/client.js";
import qrcode from "/demo/qrcode.mjs";
import { auth, byId, formatTime, notify, onClick, onSubmit } from "/demo/ui.js";

const QR_QUIET_ZONE = 4; // modules of white around the symbol, as scanners expect
const QR_MODULE_PIXELS = 5;
const TOTP_CODE = /^\d{3} ?\d{3}$/;

// The `MfaRequired` of the password step, until a code completes the sign-in.
let pending = null;

/** Passkeys work only on the origins the service names (AUTH_RP_ORIGINS): browsers take no
 * IP address as an RP ID, so the demo at http://127.0.0.1:8000 points to localhost. */
export function passkeysWorkHere() {
  const origins = document.body.dataset.passkeyOrigins.split(" ");
  return AuthClient.passkeysSupported && origins.includes(globalThis.location.origin);
}

function plural(count, noun) {
  return `${count} ${noun}${count === 1 ? "" : "s"}`;
}

// -- signing in ------------------------------------------------------------------------------

export function askSecondFactor(required, done = "Your password is right.") {
  pending = required;
  byId("login-form").hidden = true;
  byId("mfa-form").hidden = false;
  byId("mfa-passkey").hidden = !(required.methods.includes("passkey") && passkeysWorkHere());
  notify(`${done} Now a code from your authenticator app, or a recovery code.`);
  byId("mfa-form").elements.code.focus();
}

/** Back from an identity provider with `?mfa=required`: the service holds the sign-in's
 * token in an HttpOnly cookie only the second step receives, so the code alone completes it. */
export function askSecondFactorAfterProvider() {
  const params = new URLSearchParams(globalThis.location.search);
  if (params.get("mfa") !== "required") return false;
  params.delete("mfa");
  const rest = params.toString();
  globalThis.history.replaceState(null, "", globalThis.location.pathname + (rest ? `?${rest}` : ""));
  askSecondFactor({ mfaToken: undefined, methods: ["totp", "recovery_code"] }, "Your provider vouched for you.");
  return true;
}

function endSecondStep() {
  pending = null;
  byId("mfa-form").reset();
  byId("mfa-form").hidden = true;
  byId("login-form").hidden = false;
}

function wireSignIn(onSignedIn) {
  onSubmit(byId("mfa-form"), async ({ code }) => {
    const typed = code.trim();
    const answer = TOTP_CODE.test(typed) ? { code: typed } : { recoveryCode: typed };
    try {
      await auth.loginMfa(pending.mfaToken, answer);
    } catch (error) {
      // Expired, used, or the fifth wrong code: the password step again.
      if (error instanceof AuthError && error.code === "invalid_mfa_token") endSecondStep();
      throw error;
    }
    endSecondStep();
    notify(answer.recoveryCode ? "Signed in with a recovery code: it works no more." : "");
    await onSignedIn();
  });
  byId("mfa-cancel").addEventListener("click", () => {
    endSecondStep();
    notify("");
  });
  const withPasskey = async () => {
    await auth.signInWithPasskey();
    endSecondStep();
    notify("Signed in with a passkey.", "success");
    await onSignedIn();
  };
  onClick(byId("passkey-sign-in"), withPasskey);
  onClick(byId("mfa-passkey"), withPasskey);
}

// -- the authenticator app -------------------------------------------------------------------

function drawQrCode(canvas, text) {
  const qr = qrcode(0, "M");
  qr.addData(text);
  qr.make();
  const modules = qr.getModuleCount();
  const side = (modules + 2 * QR_QUIET_ZONE) * QR_MODULE_PIXELS;
  canvas.width = side;
  canvas.height = side;
  const context = canvas.getContext("2d");
  context.fillStyle = "#fff";
  context.fillRect(0, 0, side, side);
  context.fillStyle = "#000";
  for (let row = 0; row < modules; row += 1) {
    for (let col = 0; col < modules; col += 1) {
      if (!qr.isDark(row, col)) continue;
      const x = (col + QR_QUIET_ZONE) * QR_MODULE_PIXELS;
      const y = (row + QR_QUIET_ZONE) * QR_MODULE_PIXELS;
      context.fillRect(x, y, QR_MODULE_PIXELS, QR_MODULE_PIXELS);
    }
  }
}

function hideSetup() {
  byId("totp-setup").hidden = true;
  byId("totp-secret").textContent = "";
  byId("totp-qr").width = 0;
  byId("totp-confirm-form").reset();
}

function showRecoveryCodes(codes) {
  const items = codes.map((code) => {
    const item = document.createElement("li");
    const text = document.createElement("code");
    text.textContent = code;
    item.append(text);
    return item;
  });
  byId("recovery-code-list").replaceChildren(...items);
  byId("recovery-codes").hidden = false;
}

function hideRecoveryCodes() {
  byId("recovery-code-list").replaceChildren();
  byId("recovery-codes").hidden = true;
}

function wireAuthenticatorApp() {
  onClick(byId("totp-start"), async () => {
    const { secret, otpauthUri } = await auth.totpSetup();
    drawQrCode(byId("totp-qr"), otpauthUri);
    byId("totp-secret").textContent = secret.match(/.{1,4}/g).join(" ");
    byId("totp-setup").hidden = false;
    byId("totp-start").hidden = true;
    byId("totp-state").textContent = "Not on yet: it needs a first code from the app.";
    byId("totp-confirm-form").elements.code.focus();
  });
  byId("totp-not-now").addEventListener("click", () => {
    hideSetup();
    byId("totp-start").hidden = false;
    byId("totp-state").textContent = "Off.";
  });
  onSubmit(byId("totp-confirm-form"), async ({ code }) => {
    const codes = await auth.totpConfirm(code.trim());
    hideSetup();
    showRecoveryCodes(codes);
    notify("The authenticator app is on: signing in now asks for its code.", "success");
    await renderSecondFactors();
  });
  onSubmit(byId("regenerate-form"), async ({ code }, form) => {
    const codes = await auth.regenerateRecoveryCodes(code.trim());
    form.reset();
    showRecoveryCodes(codes);
    notify("Ten new recovery codes: the old ones work no more.", "success");
    await renderSecondFactors();
  });
  onSubmit(byId("totp-disable-form"), async ({ password }, form) => {
    await auth.totpDisable({ password });
    form.reset();
    hideRecoveryCodes();
    notify("The authenticator app is off: the password alone signs in again.", "warning");
    await renderSecondFactors();
  });
  byId("recovery-codes-done").addEventListener("click", hideRecoveryCodes);
}

// -- passkeys --------------------------------------------------------------------------------

function renderPasskeys(passkeys) {
  const rows = passkeys.map((passkey) => {
    const row = document.createElement("tr");
    row.dataset.passkeyId = passkey.id;
    const cells = [
      passkey.name ?? "Passkey",
      formatTime(passkey.created_at),
      passkey.last_used_at ? formatTime(passkey.last_used_at) : "never",
    ];
    for (const text of cells) {
      const cell = document.createElement("td");
      cell.textContent = text;
      row.append(cell);
    }
    const remove = document.createElement("button");
    remove.type = "button";
    remove.textContent = "Remove";
    onClick(remove, async () => {
      await auth.removePasskey(passkey.id);
      notify(`The passkey "${cells[0]}" is removed: it signs in no more.`, "warning");
      await renderSecondFactors();
    });
    const action = document.createElement("td");
    action.append(remove);
    row.append(action);
    return row;
  });
  byId("passkeys").tBodies[0].replaceChildren(...rows);
  byId("passkeys").hidden = passkeys.length === 0;
}

function wirePasskeys() {
  const here = passkeysWorkHere();
  byId("passkey-sign-in").hidden = !here;
  byId("passkey-add-form").hidden = !here;
  const [origin] = document.body.dataset.passkeyOrigins.split(" ");
  for (const hint of document.querySelectorAll(".passkeys-elsewhere")) {
    hint.hidden = here || !origin;
    const link = hint.querySelector("a");
    link.href = `${origin}${globalThis.location.pathname}`;
    link.textContent = link.href;
  }
  onSubmit(byId("passkey-add-form"), async ({ name }, form) => {
    const passkey = await auth.addPasskey(name.trim());
    form.reset();
    notify(`Passkey "${passkey.name ?? "Passkey"}" added: it signs in with no email or password.`, "success");
    await renderSecondFactors();
  });
}

// -- the card --------------------------------------------------------------------------------

export function wireSecondFactors({ onSignedIn }) {
  wireSignIn(onSignedIn);
  wireAuthenticatorApp();
  wirePasskeys();
}

export async function renderSecondFactors() {
  const [factors, passkeys] = await Promise.all([auth.secondFactors(), auth.passkeys()]);
  byId("totp-state").textContent = factors.totp
    ? `On, ${plural(factors.recoveryCodesLeft, "recovery code")} left.`
    : "Off.";
  byId("totp-start").hidden = factors.totp || !byId("totp-setup").hidden;
  byId("totp-on").hidden = !factors.totp;
  byId("password-card").hidden = factors.password;
  renderPasskeys(passkeys);
}

/** Signed out: nothing of the account stays on the page (the secret, the codes above all). */
export function clearSecondFactors() {
  hideSetup();
  hideRecoveryCodes();
  renderPasskeys([]);
  byId("password-card").hidden = true;
}
