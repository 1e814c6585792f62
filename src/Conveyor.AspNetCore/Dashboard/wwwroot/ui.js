// Shared pieces of the pages: the notice line, the confirmation dialog, action buttons and the caller's role.
import { apiKey, call, settings } from "./api.js";
import { append, h, replaceChildren } from "./dom.js";

/** Shows a message under the header; errors stay until the next message, others fade after a while. */
export function notify(text, isError = false) {
  const notice = document.getElementById("notice");
  const msg = h("div", { class: "msg" + (isError ? " error" : ""), role: isError ? "alert" : null }, text);
  replaceChildren(notice, msg);
  if (!isError) setTimeout(() => { if (msg.isConnected) msg.remove(); }, 6000);
  return msg;
}

/** True for a failed read that may pass (no answer, a 429, a 5xx: the store away); a 4xx is the request's and stays. */
export function passing(error) {
  return !error.status || error.status === 429 || error.status >= 500;
}

/**
 * Shows why a followed page could not be read again above what it last drew, which stays (text null: the read
 * succeeded, the reason goes). The same reason is not drawn again, so a screen reader hears it once.
 */
export function showOutage(container, text) {
  const shown = container.querySelector(":scope > [data-outage]");
  if (text === null) {
    shown?.remove();
    return;
  }
  const line = text + " Trying again every 2 seconds.";
  if (shown && shown.textContent === line) return;
  const notice = h("p", { class: "error-box panel", role: "alert", dataset: { outage: "" } }, line);
  if (shown) shown.replaceWith(notice);
  else container.prepend(notice);
}

export function clearNotice() { replaceChildren(document.getElementById("notice")); }

/**
 * Saves a file the page fetched (with the key) as the browser saves a download: a link to a blob: URL with a download
 * name, clicked. The URL is let go after a minute, long after the browser has started writing the file.
 */
export function saveFile(blob, fileName) {
  const url = URL.createObjectURL(blob);
  const link = h("a", { href: url, download: fileName, hidden: true });
  append(document.body, link);
  link.click();
  link.remove();
  setTimeout(() => URL.revokeObjectURL(url), 60000);
}

/**
 * Asks before a destructive action with a modal dialog (keyboard: Enter confirms, Escape dismisses). Resolves to true
 * or false. confirmLabel says what the acting button does ("Cancel 1 job"); dismissLabel must not be a word of it: a
 * question "Cancel 1 job?" with two buttons named Cancel leaves a screen reader's user guessing which one acts.
 */
export function confirmAction(question, confirmLabel, dismissLabel = "Back") {
  return new Promise((resolve) => {
    const dialog = h("dialog", { "aria-labelledby": "confirm-text" },
      h("p", { id: "confirm-text" }, question),
      h("form", { method: "dialog", class: "buttons" },
        h("button", { value: "dismiss", type: "submit", "data-dismiss": "" }, dismissLabel),
        h("button", { value: "ok", type: "submit", class: "primary", "data-confirm": "" }, confirmLabel)));
    dialog.addEventListener("close", () => { resolve(dialog.returnValue === "ok"); dialog.remove(); });
    append(document.body, dialog);
    dialog.showModal();
    dialog.querySelector("[data-confirm]").focus();
  });
}

/**
 * The focus keys whose action is in flight, each with the buttons drawn for it meanwhile. A page drawn again while a
 * POST is in flight replaces the pressed button (and keepFocus focuses the replacement): the replacement must refuse
 * a second press too, or Enter sends the action twice.
 */
const running = new Map();

/**
 * A button that runs an API action, shows its outcome, and calls done() afterwards; none in read-only mode. While the
 * action runs the button is aria-disabled, not disabled: a disabled button loses the keyboard focus to the page.
 * confirm: the question to ask first, confirmLabel the confirming button's name (the label by default). key: its
 * data-focus-key, which its replacement keeps when the page is drawn again (keepFocus); name by default. A button
 * drawn while its key's action runs is aria-disabled until the action ends.
 */
export function actionButton(label, action, { done, danger = false, confirm, confirmLabel, title, name, key } = {}) {
  if (settings.readOnly) return null;
  const actionName = name || label.toLowerCase();
  const focusKey = key || actionName;
  const button = h("button", { type: "button", class: danger ? "danger" : null, title, "data-action": actionName, "data-focus-key": focusKey }, label);
  if (running.has(focusKey)) {
    button.setAttribute("aria-disabled", "true");
    running.get(focusKey).add(button);
  }
  button.addEventListener("click", async () => {
    if (button.getAttribute("aria-disabled") === "true" || running.has(focusKey)) return;
    if (confirm && !(await confirmAction(confirm, confirmLabel || label))) return;
    // A replacement's press may have started the action while this one's confirmation was open.
    if (running.has(focusKey)) return;
    const drawn = new Set([button]);
    running.set(focusKey, drawn);
    button.setAttribute("aria-disabled", "true");
    try {
      const message = await action();
      if (message) notify(message);
    } catch (e) {
      notify(e.message, true);
    } finally {
      running.delete(focusKey);
      for (const b of drawn) b.removeAttribute("aria-disabled");
      if (done) await done();
    }
  });
  return button;
}

/**
 * Draws container again without losing the keyboard focus to the page: when the focused element was inside and is
 * gone, its replacement (the element of the same data-focus-key) is focused; when a control with a key has none (an
 * action the new state no longer allows, a button now disabled), what fallback() returns (a heading, say; made
 * focusable).
 */
export function keepFocus(container, draw, fallback) {
  const before = focusIn(container);
  draw();
  refocus(container, before, fallback);
}

/** The focused element when it is inside container, for refocus() after an asynchronous redraw; else null. */
export function focusIn(container) {
  const active = document.activeElement;
  return active && active !== document.body && container.contains(active) ? { element: active, key: active.dataset.focusKey } : null;
}

/** keepFocus's second half: before is what focusIn(container) answered before the redraw. */
export function refocus(container, before, fallback) {
  if (!before || (before.element.isConnected && document.activeElement === before.element)) return;
  if (document.activeElement && document.activeElement !== document.body) return; // the user has moved on meanwhile
  if (!before.key) return;
  const again = container.querySelector(`[data-focus-key="${CSS.escape(before.key)}"]`);
  const target = again && !again.disabled ? again : fallback ? fallback() : null;
  if (!target) return;
  if (!target.matches("a[href], button, input, select, textarea, [tabindex]")) target.tabIndex = -1;
  target.focus();
}

/**
 * What the current key may see: "operator" (admin key, or no keys configured), "tenant", or "anonymous" (a key is
 * needed). GET /caller answers every key, so a tenant's key is never sent to an operator's endpoint to be refused
 * (each refusal is an error in the browser's console); without a key on a server that needs one nothing is asked.
 */
let role = null;
export async function callerRole(refresh = false) {
  if (role && !refresh) return role;
  if (settings.keysRequired && !apiKey()) role = "anonymous";
  else {
    try {
      role = (await call("GET", "/caller")).admin ? "operator" : "tenant";
    } catch (e) {
      role = e.status === 404 || e.status === 405 ? await olderServerRole() : roleOf(e);
    }
  }
  const whoami = document.getElementById("whoami");
  whoami.textContent = {
    operator: "Operator view: every tenant's jobs, queues and servers.",
    tenant: "Tenant view: this key's tenant's jobs and schedules (queues and servers need an operator key).",
    // A key typed but refused must say so: the pages would otherwise only ask for a key.
    anonymous: apiKey() ? "The server refused this API key (401): check it, or forget it." : "",
    unknown: "",
  }[role] + (settings.readOnly ? " Read-only: actions are hidden." : "");
  return role;
}

/** A server without GET /caller: only an operator's key may read the queues. */
async function olderServerRole() {
  try {
    await call("GET", "/queues");
    return "operator";
  } catch (e) {
    return e.status === 403 ? "tenant" : roleOf(e);
  }
}

function roleOf(error) { return error.status === 401 ? "anonymous" : "unknown"; }
