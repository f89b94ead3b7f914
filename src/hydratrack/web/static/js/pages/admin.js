// "/admin" (admins): users with their role and state, every API key, every UI session;
// disable / enable users, revoke keys and sessions. Changes go through the API with the
// session cookie and the X-CSRF-Token header (api.js).
import { del, get, me, patch } from "../api.js";
import { h, replace } from "../dom.js";
import { fmtAgo, fmtTime } from "../format.js";
import { confirmDialog, errorText, notify, pageFrame, renderTopbar, showError } from "../layout.js";

const role = (u) => u.role || (u.is_admin ? "admin" : "user");
const table = (id, label, head, rows) => h("table", { class: "grid", id, "aria-label": label },
  h("thead", {}, h("tr", {}, head.map((t) => h("th", {}, t)))),
  h("tbody", {}, rows));

export async function render() {
  const answer = await renderTopbar("admin");
  const body = pageFrame("Users and access", h("a", { href: "/audit" }, "Audit log"));
  if (!answer.user.is_admin) {
    replace(body, h("div", { class: "empty", role: "alert" },
      h("strong", {}, "Admins only"), h("p", {}, "Ask an admin to manage users, keys and sessions.")));
    return;
  }
  const users = h("div", {});
  const keys = h("div", {});
  const sessions = h("div", {});
  replace(body, h("h2", {}, "Users"), users, h("h2", {}, "API keys"), keys, h("h2", {}, "Sessions"), sessions);

  async function act(what, call) {
    try {
      await call();
      notify(what, "ok");
    } catch (err) {
      notify(errorText(err), "error");
    }
    await load();
  }

  const button = (text, label, onclick, danger = false) =>
    h("button", { type: "button", class: danger ? "btn btn-danger" : "btn", "aria-label": label, onclick }, text);

  async function load() {
    let u, k, s;
    try {
      [u, k, s] = await Promise.all([get("/users"), get("/users/keys"), get("/users/sessions")]);
    } catch (err) {
      if (err.status !== 401) showError(users, err, "Could not load users");
      return;
    }
    const self = (await me()).user.name;
    replace(users, table("users-table", "Users", ["User", "Role", "State", "Created", ""],
      u.items.map((x) => h("tr", { "data-name": x.name },
        h("td", { class: "strong" }, x.name),
        h("td", {}, role(x)),
        h("td", {}, x.disabled ? h("span", { class: "status status-failed" }, "disabled") : "active"),
        h("td", {}, fmtTime(x.created)),
        h("td", {}, x.name === self ? h("span", { class: "muted" }, "you")
          : x.disabled
            ? button("Enable", `Enable ${x.name}`, () => act(`Enabled ${x.name}`,
              () => patch(`/users/${encodeURIComponent(x.id)}`, { disabled: false })))
            : button("Disable", `Disable ${x.name}`, async () => {
              const ok = await confirmDialog(`Disable ${x.name}?`,
                "Their sessions end now and their API keys are refused until enabled again.", "Disable");
              if (ok) await act(`Disabled ${x.name}`, () => patch(`/users/${encodeURIComponent(x.id)}`, { disabled: true }));
            }, true))))));
    replace(keys, k.items.length
      ? table("keys-table", "API keys", ["Access key", "User", "Label", "Created", "Last used", ""],
        k.items.map((x) => h("tr", { "data-key": x.access_key },
          h("td", {}, h("code", {}, x.access_key)),
          h("td", {}, x.user.name),
          h("td", {}, x.label || ""),
          h("td", {}, fmtTime(x.created)),
          h("td", { title: fmtTime(x.last_used) }, x.last_used ? fmtAgo(x.last_used) : "never"),
          h("td", {}, button("Revoke", `Revoke key ${x.access_key}`, async () => {
            const ok = await confirmDialog(`Revoke key ${x.access_key}?`,
              `Programs using this key of ${x.user.name} stop being let in.`, "Revoke");
            if (ok) await act(`Revoked ${x.access_key}`, () => del(`/users/keys/${encodeURIComponent(x.access_key)}`));
          }, true)))))
      : h("p", { class: "muted" }, "No API keys."));
    replace(sessions, table("sessions-table", "Sessions", ["Session", "User", "Signed in", "Last seen", "Expires", ""],
      s.items.map((x) => h("tr", { "data-session": x.id },
        h("td", {}, h("code", { title: x.id }, x.id.slice(0, 12))),
        h("td", {}, x.user.name),
        h("td", {}, fmtTime(x.created)),
        h("td", { title: fmtTime(x.last_seen) }, fmtAgo(x.last_seen)),
        h("td", {}, fmtTime(x.expires)),
        h("td", {}, button("Revoke", `Revoke session ${x.id.slice(0, 12)} of ${x.user.name}`,
          () => act(`Ended a session of ${x.user.name}`, () => del(`/users/sessions/${encodeURIComponent(x.id)}`)), true))))));
  }
  await load();
}
