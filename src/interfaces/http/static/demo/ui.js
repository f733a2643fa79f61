// What every part of the demo shares: the one client, the notice line, and form handling.
import { AuthClient, AuthError } from "/auth/client.js";

export const byId = (id) => document.getElementById(id);

/** The client's step-up hook (RFC 9470): a sensitive action found the sign-in too old, or
 * one factor where the account has two. Ask the user in a dialog; resolve with the proof
 * they give (the client sends it to /auth/reauthenticate and the action once more), or null
 * when they cancel. */
function confirmItsYou(challenge) {
  const dialog = byId("step-up");
  const form = byId("step-up-form");
  const passkey = byId("step-up-passkey");
  const cancel = byId("step-up-cancel");
  form.reset();
  byId("step-up-why").textContent =
    challenge.acrValues === "aal2"
      ? "This needs your second factor: use a passkey, or your password with a code from your app."
      : "This needs a recent sign-in: enter your password again, or use a passkey.";
  passkey.hidden = !AuthClient.passkeysSupported;
  return new Promise((resolve) => {
    const finish = (proof) => {
      form.removeEventListener("submit", submitted);
      passkey.removeEventListener("click", withPasskey);
      cancel.removeEventListener("click", cancelled);
      dialog.removeEventListener("cancel", cancelled);
      dialog.close();
      resolve(proof);
    };
    const submitted = (event) => {
      event.preventDefault();
      const { password, code } = Object.fromEntries(new FormData(form));
      finish({ password, code: code || undefined });
    };
    const withPasskey = () => finish({ passkey: true });
    const cancelled = (event) => {
      event.preventDefault();
      finish(null);
    };
    form.addEventListener("submit", submitted);
    passkey.addEventListener("click", withPasskey);
    cancel.addEventListener("click", cancelled);
    dialog.addEventListener("cancel", cancelled); // the Escape key
    dialog.showModal();
  });
}

export const auth = new AuthClient({ onStepUp: confirmItsYou });

export function notify(text, kind = "info") {
  const notice = byId("notice");
  notice.textContent = text;
  notice.className = kind;
  notice.hidden = !text;
}

function explain(error) {
  // The browser's own refusals (a dismissed passkey prompt, a page on the wrong origin).
  if (error instanceof DOMException) return `The browser refused: ${error.message} [${error.name}]`;
  if (!(error instanceof AuthError)) return `The service did not answer (${error.message}).`;
  const fields = error.errors.map((e) => `${e.field}: ${e.message}`).join("; ");
  return `${error.message}${fields ? ` (${fields})` : ""} [${error.code ?? error.status}]`;
}

/** Run an action; its failure becomes the notice. */
export async function attempt(action) {
  try {
    await action();
  } catch (error) {
    // A call refused because the session ended: the signedout handler has said why.
    if (error instanceof AuthError && error.code === "invalid_token" && !auth.signedIn) return;
    notify(explain(error), "error");
  }
}

/** Submit handlers get the form's fields; the form is disabled while the call runs. */
export function onSubmit(form, handler) {
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    const fields = Object.fromEntries(new FormData(form));
    form.inert = true;
    attempt(() => handler(fields, form)).finally(() => {
      form.inert = false;
    });
  });
}

/** A button that runs an action, disabled while it runs. */
export function onClick(button, action) {
  button.addEventListener("click", () => {
    button.disabled = true;
    attempt(action).finally(() => {
      button.disabled = false;
    });
  });
}

export function formatTime(iso) {
  return new Date(iso).toLocaleString([], { dateStyle: "medium", timeStyle: "short" });
}
