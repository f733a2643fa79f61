// What every part of the demo shares: the one client, the notice line, and form handling.
import { AuthClient, AuthError } from "/auth/client.js";

export const auth = new AuthClient();
export const byId = (id) => document.getElementById(id);

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
