// The JSON API client of the pages (docs/api.md). Session cookie + X-CSRF-Token.
const BASE = "/api/v1";
const MUTATING = new Set(["POST", "PUT", "PATCH", "DELETE"]);
let csrfToken = null;
let mePromise = null;

export class ApiError extends Error {
  constructor(status, code, message, details) {
    super(message);
    this.status = status;
    this.code = code;
    this.details = details;
  }
}

export function setCsrfToken(token) {
  csrfToken = token;
}

export function loginUrl() {
  const here = location.pathname + location.search + location.hash;
  return "/login?next=" + encodeURIComponent(here);
}

/** The signed-in user ({user, csrf_token}); fetched once per page. */
export function me() {
  if (!mePromise) {
    mePromise = request("GET", "/auth/me").then((answer) => {
      setCsrfToken(answer.csrf_token);
      return answer;
    });
    mePromise.catch(() => { mePromise = null; });
  }
  return mePromise;
}

/** Query string from an object; arrays repeat the key, null/undefined/"" are left out. */
export function query(params) {
  const qs = new URLSearchParams();
  for (const [key, value] of Object.entries(params || {})) {
    const values = Array.isArray(value) ? value : [value];
    for (const v of values) {
      if (v !== null && v !== undefined && v !== "") qs.append(key, String(v));
    }
  }
  const text = qs.toString();
  return text ? "?" + text : "";
}

/** The CSRF token of the current session, fetched when not known yet. */
async function csrf() {
  if (!csrfToken) {
    try {
      const answer = await request("GET", "/auth/me", undefined, { noRedirect: true });
      csrfToken = answer.csrf_token;
    } catch (err) {
      throw err.status === 401 ? sessionEnded() : err;
    }
  }
  return csrfToken;
}

/** A change was refused because the session ended: keep the page and what the user typed. */
function sessionEnded() {
  window.dispatchEvent(new CustomEvent("hydratrack:signed-out"));
  return new ApiError(401, "unauthorized",
    "Your session has ended. Sign in again in another tab, then retry: nothing here was lost.");
}

/**
 * One API call. Answers the parsed JSON (null for 204). Errors throw ApiError;
 * 401 sends the browser to the login page unless opts.noRedirect.
 */
export async function request(method, path, body, opts = {}) {
  const mutating = MUTATING.has(method) && path !== "/auth/login";
  const headers = { Accept: "application/json" };
  if (mutating) headers["X-CSRF-Token"] = await csrf();
  const init = { method, headers, credentials: "same-origin" };
  if (body !== undefined) {
    headers["Content-Type"] = "application/json";
    init.body = JSON.stringify(body);
  }
  let resp;
  try {
    resp = await fetch(BASE + path, init);
  } catch (err) {
    throw new ApiError(0, "unreachable", "The server cannot be reached. Is hydratrack server running?");
  }
  if (resp.status === 403 && mutating && !opts.retried) {
    // signed in again elsewhere: the session (and its CSRF token) changed; fetch it and retry once
    csrfToken = null;
    mePromise = null;
    return request(method, path, body, { ...opts, retried: true });
  }
  if (resp.status === 401 && mutating && !opts.noRedirect) throw sessionEnded();
  if (resp.status === 401 && !opts.noRedirect) {
    location.assign(loginUrl());
    throw new ApiError(401, "unauthorized", "Signed out: redirecting to the login page");
  }
  if (resp.status === 204) return null;
  const text = await resp.text();
  let data = null;
  try {
    data = text ? JSON.parse(text) : null;
  } catch (err) {
    data = null;
  }
  if (!resp.ok) {
    const e = (data && data.error) || {};
    throw new ApiError(resp.status, e.code || "http_error", e.message || `HTTP ${resp.status}`, e.details);
  }
  return data;
}

export const get = (path, params) => request("GET", path + query(params));
export const post = (path, body) => request("POST", path, body === undefined ? {} : body);
export const patch = (path, body) => request("PATCH", path, body);
export const put = (path, body) => request("PUT", path, body);
export const del = (path) => request("DELETE", path);
