// /login: username/password form, or /login?token=... (the one-click URL printed at first start).
import { request, setCsrfToken } from "../api.js";
import { h, replace } from "../dom.js";
import { errorText, main } from "../layout.js";

/**
 * Where to go after login: a path on this origin, never another one. The value is parsed
 * the way the browser will (it drops tabs and newlines and reads "\\" as "/"), and the
 * absolute URL of the result is used only when its origin is ours.
 */
export function nextUrl(search = location.search) {
  const next = new URLSearchParams(search).get("next") || "/";
  if (!next.startsWith("/")) return "/";
  let url;
  try {
    url = new URL(next, location.origin);
  } catch {
    return "/";
  }
  return url.origin === location.origin ? url.href : "/";
}

async function login(body) {
  const answer = await request("POST", "/auth/login", body, { noRedirect: true });
  setCsrfToken(answer.csrf_token);
  location.assign(nextUrl());
}

export async function render() {
  document.title = "Sign in · hydratrack";
  document.getElementById("topbar").hidden = true;
  const error = h("p", { class: "field-error", role: "alert", id: "login-error" });
  const user = h("input", { id: "username", name: "username", autocomplete: "username", required: true, autofocus: true });
  const pass = h("input", { id: "password", name: "password", type: "password", autocomplete: "current-password", required: true });
  const button = h("button", { type: "submit", class: "btn btn-primary" }, "Sign in");
  const form = h("form", { class: "login-form", "aria-labelledby": "login-title" },
    h("h1", { id: "login-title" }, "hydratrack"),
    h("p", { class: "muted" }, "Sign in to see your experiments."),
    h("label", { for: "username" }, "Username", user),
    h("label", { for: "password" }, "Password", pass),
    error, button);
  form.addEventListener("submit", async (ev) => {
    ev.preventDefault();
    error.textContent = "";
    button.disabled = true;
    try {
      await login({ username: user.value.trim(), password: pass.value });
    } catch (err) {
      error.textContent = err.status === 401 ? "Wrong username or password." : errorText(err);
      button.disabled = false;
      pass.select();
    }
  });
  replace(main(), h("div", { class: "login-wrap" }, form));

  const token = new URLSearchParams(location.search).get("token");
  if (!token) {
    // already signed in (e.g. a bookmarked /login): go on
    const answer = await request("GET", "/auth/me", undefined, { noRedirect: true }).catch(() => null);
    if (answer) location.replace(nextUrl());
  }
  if (token) {
    error.textContent = "";
    const status = h("p", { class: "muted", role: "status" }, "Signing in with the one-click link…");
    form.insertBefore(status, error);
    try {
      await login({ token });
    } catch (err) {
      status.remove();
      error.textContent = err.status === 401
        ? "This sign-in link was already used or has expired. Sign in with your password."
        : errorText(err);
    }
  }
}
