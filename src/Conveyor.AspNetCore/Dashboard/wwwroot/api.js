// The only way the dashboard reaches the server: the HTTP Jobs API, with the API key the user typed.
const config = JSON.parse(document.querySelector('meta[name="conveyor-config"]').content);
const keyName = "conveyor-api-key";

export const settings = Object.freeze({
  api: config.api,
  base: config.base,
  readOnly: config.readOnly === true,
  maxPageSize: config.maxPageSize || 200,
  keysRequired: config.keysRequired === true,
});

export function apiKey() { return localStorage.getItem(keyName) || ""; }
export function setApiKey(key) { if (key) localStorage.setItem(keyName, key); else localStorage.removeItem(keyName); }

/** An answer that is not a success: the HTTP status and the problem's detail (RFC 9457) when there is one. */
export class ApiError extends Error {
  constructor(status, message, problem) {
    super(message);
    this.status = status;
    this.problem = problem;
  }
}

/**
 * A request body that is already JSON text, sent as typed: a value parsed and encoded again would lose what JSON.parse
 * cannot hold (integers past 2^53, a repeated key), and the server, not the page, says whether it is JSON.
 */
export class JsonText {
  constructor(text) { this.text = text; }
}

/** Calls the API; resolves to the parsed JSON (null for 204), rejects with an ApiError. body: a value, or a JsonText. */
export async function call(method, path, body) {
  const headers = { Accept: "application/json", ...keyHeader() };
  if (body !== undefined) headers["Content-Type"] = "application/json";
  let response;
  try {
    response = await fetch(settings.api + path, { method, headers, body: body === undefined ? undefined : body instanceof JsonText ? body.text : JSON.stringify(body) });
  } catch (e) {
    throw new ApiError(0, "The server did not answer: " + e.message, null);
  }
  const text = response.status === 204 ? "" : await response.text();
  let json = null;
  if (text) {
    try { json = JSON.parse(text); } catch { json = null; }
  }
  if (!response.ok) {
    const detail = json && (json.detail || json.title);
    throw new ApiError(response.status, describe(response.status, detail, response.statusText), json);
  }
  return json;
}

function keyHeader() {
  const key = apiKey();
  return key ? { Authorization: "Bearer " + key } : {};
}

/**
 * Whether a link (a job's result_url) must be fetched with the key rather than followed: the browser would follow it
 * without the key and get the API's 401. Only a link to this page's own origin, and only while a key is held: a key
 * is never sent to another origin, and without one (a server without keys) the plain link works as it is.
 */
export function needsKey(url) {
  if (!apiKey()) return false;
  try {
    return new URL(url, location.href).origin === location.origin;
  } catch {
    return false;
  }
}

/**
 * GET of a same-origin link with the key: resolves to { json } when the answer is JSON (parsed, or its text when it
 * does not parse), otherwise to { blob, fileName } (the name from Content-Disposition, else the path's last segment);
 * rejects with an ApiError worded as the API's own refusals are.
 */
export async function fetchWithKey(url) {
  const target = new URL(url, location.href);
  let response;
  try {
    // A redirect is not followed with the key: it could lead to another origin.
    response = await fetch(target, { headers: keyHeader(), redirect: "error" });
  } catch (e) {
    throw new ApiError(0, `${target.pathname} could not be fetched: ${e.message}`, null);
  }
  const type = (response.headers.get("Content-Type") || "").toLowerCase();
  const isJson = /^application\/([\w.+-]*\+)?json\b/.test(type);
  if (!response.ok) {
    let problem = null;
    if (isJson) {
      try { problem = await response.json(); } catch { problem = null; }
    }
    const detail = problem && (problem.detail || problem.title);
    const message = response.status === 404 && !detail ? `Nothing at ${target.pathname} for this API key (HTTP 404).` : describe(response.status, detail, response.statusText);
    throw new ApiError(response.status, message, problem);
  }
  if (isJson) {
    const text = await response.text();
    try { return { json: JSON.parse(text) }; } catch { return { json: text }; }
  }
  return { blob: await response.blob(), fileName: fileName(response.headers.get("Content-Disposition"), target.pathname) };
}

/** The file name a server gave (RFC 6266: filename* first, then filename), else the path's last segment. */
function fileName(disposition, path) {
  let name = "";
  const extended = disposition && /filename\*\s*=\s*[^']*'[^']*'([^;\s]+)/i.exec(disposition);
  const plain = disposition && /filename\s*=\s*(?:"((?:[^"\\]|\\.)*)"|([^;\s]+))/i.exec(disposition);
  try {
    if (extended) name = decodeURIComponent(extended[1]);
  } catch {
    name = "";
  }
  if (!name && plain) name = plain[1] !== undefined ? plain[1].replace(/\\(.)/g, "$1") : plain[2];
  if (!name) {
    const segment = path.split("/").filter(Boolean).pop() || "";
    try { name = decodeURIComponent(segment); } catch { name = segment; }
  }
  // A name is a name, never a path into the downloads folder.
  return name.replace(/[\/\\]/g, "_") || "download";
}

function describe(status, detail, statusText) {
  if (status === 401) return apiKey() ? "The server refused this API key: type another above and choose Use key." : "This server needs an API key: type it above and choose Use key.";
  if (status === 403) return detail || "This API key may not do that (an operator key is needed).";
  if (status === 429) return "Too many requests for this key; try again in a moment.";
  return detail ? `${detail} (HTTP ${status})` : `HTTP ${status} ${statusText}`;
}

/** Builds a query string from the non-empty values of an object. */
export function query(values) {
  const params = new URLSearchParams();
  for (const [name, value] of Object.entries(values)) {
    if (value !== undefined && value !== null && value !== "") params.set(name, value);
  }
  const text = params.toString();
  return text ? "?" + text : "";
}
