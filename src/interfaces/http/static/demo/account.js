// The account is its user's, in the demo: the security activity, "Export my data" (a JSON
// download) and "Delete my account". Export and delete are sensitive actions: past the
// max age the client's onStepUp opens the "Confirm it's you" dialog first.
import { auth, byId, formatTime, notify, onClick } from "/demo/ui.js";

const PAGE = 10;
const WHAT = {
  session_started: "Signed in",
  user_registered: "Account created",
  login_failed: "Failed sign-in",
  reauthenticated: "Confirmed it's you",
  refresh_token_reused: "A stolen session token was refused",
  session_revoked: "Signed out",
  password_changed: "Password changed",
  password_reset: "Password reset",
  password_reset_requested: "Password reset asked for",
  email_verified: "Email verified",
  mfa_enabled: "Second factor turned on",
  mfa_disabled: "Second factor turned off",
  mfa_failed: "Wrong second-factor code",
  recovery_code_used: "Recovery code used",
  recovery_codes_regenerated: "New recovery codes",
  passkey_added: "Passkey added",
  passkey_removed: "Passkey removed",
  account_exported: "Data exported",
  user_disabled: "Account disabled",
  user_enabled: "Account enabled",
};
const METHODS = { pwd: "password", otp: "app code", rec: "recovery code", hwk: "passkey", fed: "provider", email: "email code" };

let older = null; // the cursor of the next, older page

function describe(entry) {
  const what = WHAT[entry.type] ?? entry.type.replaceAll("_", " ");
  const how = (entry.method ?? []).map((m) => METHODS[m]).filter(Boolean).join(" + ");
  const why = entry.reason ? ` (${entry.reason.replaceAll("_", " ")})` : "";
  const by = entry.by_admin ? " by an administrator" : "";
  return `${what}${how ? ` with ${how}` : ""}${why}${by}`;
}

function row(entry) {
  const tr = document.createElement("tr");
  tr.dataset.type = entry.type;
  for (const text of [formatTime(entry.at), describe(entry), entry.device ?? "—", entry.ip_address ?? "—"]) {
    const cell = document.createElement("td");
    cell.textContent = text;
    tr.append(cell);
  }
  tr.cells[2].title = entry.user_agent ?? "";
  return tr;
}

export async function renderActivity({ more = false } = {}) {
  const body = byId("activity").tBodies[0];
  const page = await auth.activity({ limit: PAGE, cursor: more ? older : undefined });
  older = page.nextCursor;
  const rows = page.activity.map(row);
  if (more) body.append(...rows);
  else body.replaceChildren(...rows);
  byId("activity-older").hidden = older === null;
}

function download(document_, filename) {
  const blob = new Blob([JSON.stringify(document_, null, 2)], { type: "application/json" });
  const link = document.createElement("a");
  link.href = URL.createObjectURL(blob);
  link.download = filename;
  link.click();
  setTimeout(() => URL.revokeObjectURL(link.href), 1000);
}

export function wireAccount() {
  onClick(byId("activity-older"), () => renderActivity({ more: true }));
  onClick(byId("export-account"), async () => {
    const exported = await auth.exportAccount();
    download(exported, `account-${exported.exported_at.slice(0, 10)}.json`);
    notify("Your data is downloaded: one JSON file, nothing secret in it.");
    await renderActivity();
  });
  onClick(byId("delete-account"), async () => {
    const sure = globalThis.confirm(
      "Delete your account and everything kept about it? This cannot be undone: every device is signed out.",
    );
    if (!sure) return;
    await auth.deleteAccount(); // signedout fires, the page shows why
  });
}

export function clearActivity() {
  byId("activity").tBodies[0].replaceChildren();
  older = null;
}
