// The frame every page shares: top bar, notices, dialogs.
import { me, post } from "./api.js";
import { h, replace } from "./dom.js";

export const main = () => document.getElementById("main");

let signedOutNotice = null;
window.addEventListener("hydratrack:signed-out", () => {
  if (signedOutNotice && signedOutNotice.isConnected) return;
  signedOutNotice = notify([
    "Your session has ended. ",
    h("a", { href: "/login?next=" + encodeURIComponent("/"), target: "_blank", rel: "noopener", id: "sign-in-again" },
      "Sign in again in a new tab"),
    ", then retry here.",
  ], "error", true);
});

/** Top bar with navigation and the signed-in user; `active` is "projects" | "queues" |
 * "admin" | "audit". */
export async function renderTopbar(active) {
  const bar = document.getElementById("topbar");
  const link = (href, text, key) =>
    h("a", { href, class: active === key ? "active" : null, "aria-current": active === key ? "page" : null }, text);
  const userSlot = h("div", { class: "user" });
  replace(bar,
    h("a", { href: "/", class: "brand", "aria-label": "hydratrack home" }, "hydratrack"),
    h("nav", { "aria-label": "Main" }, link("/", "Projects", "projects"), link("/queues", "Queues", "queues")),
    userSlot);
  const answer = await me();
  if (answer.user.is_admin) {
    bar.querySelector("nav").append(link("/admin", "Users", "admin"), link("/audit", "Audit log", "audit"));
  }
  replace(userSlot,
    h("span", { class: "username", title: "signed in" }, answer.user.name),
    h("button", { type: "button", class: "btn btn-quiet", onclick: logout }, "Sign out"));
  return answer;
}

async function logout() {
  try {
    await post("/auth/logout");
  } finally {
    location.assign("/login");
  }
}

/** Set the page title and header; answers the element to put the page body in. */
export function pageFrame(title, ...extra) {
  document.title = `${title} · hydratrack`;
  const body = h("div", { class: "page-body" });
  replace(main(), h("div", { class: "page-head" }, h("h1", {}, title), ...extra), body);
  return body;
}

/** A notice at the top of the page (kind: "error" | "ok" | "info"); it fades unless sticky. */
export function notify(message, kind = "info", sticky = false) {
  let box = document.getElementById("notices");
  if (!box) {
    box = h("div", { id: "notices", class: "notices", role: "status", "aria-live": "polite" });
    document.body.append(box);
  }
  const note = h("div", { class: `notice notice-${kind}` }, h("span", {}, message),
    h("button", { type: "button", class: "close", "aria-label": "Dismiss", onclick: () => note.remove() }, "×"));
  box.append(note);
  if (!sticky && kind !== "error") setTimeout(() => note.remove(), 4000);
  return note;
}

export function errorText(err) {
  return err && err.message ? err.message : String(err);
}

/** Show an error in place of a page body. */
export function showError(container, err, what = "Could not load this page") {
  replace(container, h("div", { class: "empty error", role: "alert" },
    h("strong", {}, what), h("p", {}, errorText(err))));
}

/**
 * A modal dialog. fields: [{name, label, value?, options?: [[value, text]], required?}].
 * Answers the entered values ({name: value}) or null when cancelled.
 * `onSubmit(values)` may throw to keep the dialog open with the message shown.
 */
export function dialog({ title, message, fields = [], submit = "OK", danger = false, onSubmit }) {
  return new Promise((resolve) => {
    const error = h("p", { class: "field-error", role: "alert" });
    const inputs = fields.map((f) => {
      const id = `dlg-${f.name}`;
      const input = f.options
        ? h("select", { id, name: f.name }, f.options.map(([v, t]) => h("option", { value: v, selected: v === f.value }, t)))
        : h("input", { id, name: f.name, type: "text", value: f.value || "", required: f.required, autocomplete: "off" });
      return [f.name, input, h("label", { for: id }, f.label, input)];
    });
    const form = h("form", { method: "dialog", class: "dialog-form" },
      h("h2", {}, title),
      message ? h("p", {}, message) : null,
      inputs.map(([, , label]) => label),
      error,
      h("div", { class: "dialog-actions" },
        h("button", { type: "button", class: "btn", value: "cancel", onclick: () => close(null) }, "Cancel"),
        h("button", { type: "submit", class: danger ? "btn btn-danger" : "btn btn-primary" }, submit)));
    const dlg = h("dialog", { class: "dialog", "aria-label": title }, form);
    const close = (value) => { dlg.close(); dlg.remove(); resolve(value); };
    dlg.addEventListener("cancel", (ev) => { ev.preventDefault(); close(null); });
    form.addEventListener("submit", async (ev) => {
      ev.preventDefault();
      const values = Object.fromEntries(inputs.map(([name, input]) => [name, input.value]));
      if (onSubmit) {
        try {
          await onSubmit(values);
        } catch (err) {
          error.textContent = errorText(err);
          return;
        }
      }
      close(values);
    });
    document.body.append(dlg);
    dlg.showModal();
    const first = inputs.length ? inputs[0][1] : form.querySelector(".btn-primary, .btn-danger");
    if (first) first.focus();
  });
}

export async function confirmDialog(title, message, submit = "Delete") {
  return (await dialog({ title, message, submit, danger: true })) !== null;
}
