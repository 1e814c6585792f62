// Small helpers to build elements and format values; every text goes through textContent, never innerHTML.

/** h("a", {href: "#/jobs", class: "x", onclick: f}, "text", child...) */
export function h(tag, props, ...children) {
  const svg = tag.startsWith("svg:");
  const el = svg ? document.createElementNS("http://www.w3.org/2000/svg", tag.slice(4)) : document.createElement(tag);
  for (const [name, value] of Object.entries(props || {})) {
    if (value === undefined || value === null || value === false) continue;
    if (name.startsWith("on") && typeof value === "function") el.addEventListener(name.slice(2), value);
    else if (name === "class") el.setAttribute("class", value);
    else if (name === "dataset") Object.assign(el.dataset, value);
    else if (!svg && (name === "value" || name === "checked" || name === "indeterminate")) el[name] = value;
    else el.setAttribute(name, value === true ? "" : String(value));
  }
  el.append(...nodes(children));
  return el;
}

/**
 * Element.append for the pages: arrays are spread, and null, undefined and false are left out (the DOM would write
 * them as the text "null" or "false"), so a part a page does not have can be passed as null, as h() takes it.
 */
export function append(el, ...children) { el.append(...nodes(children)); }

/** Element.replaceChildren, with append's rules. */
export function replaceChildren(el, ...children) { el.replaceChildren(...nodes(children)); }

function nodes(children, into = []) {
  for (const child of children) {
    if (child === undefined || child === null || child === false) continue;
    if (Array.isArray(child)) nodes(child, into);
    else into.push(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return into;
}

export const number = new Intl.NumberFormat(undefined);

/**
 * A job's page. tenant: the tenant the job belongs to when it is not the key's own (an operator reading another
 * tenant's job); without it the link opens the key's own tenant's job of that id, a 404 for another tenant's.
 */
export function jobHref(id, tenant) { return "#/jobs/" + encodeURIComponent(id) + tenantScope(tenant); }

/** A batch's or workflow's page, in the tenant it belongs to (as jobHref). */
export function batchHref(id, tenant) { return "#/batches/" + encodeURIComponent(id) + tenantScope(tenant); }

/** A workflow's page (the batch page, with its steps), in the tenant it belongs to (as jobHref). */
export function workflowHref(id, tenant) { return "#/workflows/" + encodeURIComponent(id) + tenantScope(tenant); }

/**
 * Whether a value from the API may be a link's href: an http: or https: address, or one relative to this page (which
 * resolves to the page's own scheme), as the browser itself parses it (leading blanks and upper case included).
 */
export function isWebAddress(value) {
  try {
    return ["http:", "https:"].includes(new URL(value, location.href).protocol);
  } catch {
    return false;
  }
}

function tenantScope(tenant) { return tenant ? "?tenant=" + encodeURIComponent(tenant) : ""; }

/**
 * A name, id, type, queue or tenant from the API, for a table cell. The API allows up to 200 characters without a space,
 * which would widen the column past the window: a long one breaks anywhere, is held to a width and cut after three
 * lines with an ellipsis (app.css, .cut), whole in its title. A short one stays on one line. props: more attributes
 * (a link's href); tag: "a" for a link.
 */
export function cut(text, props = {}, tag = "span") {
  const value = text === null || text === undefined ? "" : String(text);
  const { class: extra, ...rest } = props;
  return h(tag, { ...rest, class: "cut" + (value.length <= shortName ? " short" : "") + (extra ? " " + extra : ""), title: value }, value);
}

/** Up to this many characters a name is kept on one line: about the width a long one is cut to at its narrowest. */
const shortName = 16;

/** A cron expression: on one line up to the usual length, else broken between its fields when it must, never inside one. */
export function cron(expression) {
  const text = String(expression);
  const fields = text.split(/\s+/).filter(Boolean);
  return h("code", { class: text.length <= shortCron ? "cron short" : "cron" }, fields.flatMap((field, i) => [i ? " " : null, h("span", {}, field)]));
}

/** "0,15,30,45 6-22 * * MON-FRI" and shorter: one line. */
const shortCron = 32;

export function badge(status) {
  return h("span", { class: "badge s-" + status }, status.replace("_", " ").toLowerCase());
}

/** "2026-12-01 15:04:05" in the browser's time zone, with the UTC instant in the tooltip. */
export function time(value) {
  if (!value) return h("span", { class: "muted" }, "—");
  const date = new Date(value);
  return h("time", { datetime: value, title: value }, formatDate(date));
}

export function formatDate(date) {
  const pad = (n) => String(n).padStart(2, "0");
  return `${date.getFullYear()}-${pad(date.getMonth() + 1)}-${pad(date.getDate())} ${pad(date.getHours())}:${pad(date.getMinutes())}:${pad(date.getSeconds())}`;
}

/** "350 ms", "4.2 s", "3 min 5 s", "2 h 4 min", "3 d 2 h" */
export function duration(seconds) {
  if (seconds === null || seconds === undefined || Number.isNaN(seconds)) return "—";
  if (seconds < 1) return Math.round(seconds * 1000) + " ms";
  if (seconds < 60) return seconds.toFixed(seconds < 10 ? 1 : 0) + " s";
  const m = Math.floor(seconds / 60), s = Math.floor(seconds % 60);
  if (m < 60) return `${m} min ${s} s`;
  const hours = Math.floor(m / 60);
  if (hours < 48) return `${hours} h ${m % 60} min`;
  return `${Math.floor(hours / 24)} d ${hours % 24} h`;
}

export function between(from, to) {
  if (!from || !to) return null;
  return (new Date(to) - new Date(from)) / 1000;
}

export function ago(value) {
  if (!value) return "—";
  const seconds = (Date.now() - new Date(value)) / 1000;
  return seconds < 0 ? "in " + duration(-seconds) : duration(seconds) + " ago";
}

/** A string cut to at most max characters, with the number of characters left out. */
export function bounded(text, max) {
  if (text.length <= max) return { text, cut: 0 };
  return { text: text.slice(0, max), cut: text.length - max };
}

export const statuses = ["WAITING", "SCHEDULED", "QUEUED", "RUNNING", "RETRYING", "FAILED", "SUCCESS", "PARTIAL_SUCCESS", "CANCELLED"];

/** What the Jobs API allows in each state: POST /jobs/{id}/cancel, /retry, DELETE /jobs/{id}. */
export function allowed(status) {
  return {
    cancel: ["WAITING", "SCHEDULED", "QUEUED", "RETRYING", "RUNNING"].includes(status),
    retry: ["FAILED", "CANCELLED", "SCHEDULED", "RETRYING"].includes(status),
    delete: status !== "RUNNING",
  };
}
