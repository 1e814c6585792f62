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
  const headers = { Accept: "application/json" };
  const key = apiKey();
  if (key) headers.Authorization = "Bearer " + key;
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
