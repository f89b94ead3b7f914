// "/audit" (admins): the audit log, newest first: who did what, when, from where.
// Filters (user, action, target, since, until) live in the address (?user=bob&action=task.*)
// so the admin page can link to one user's entries; paging is the server's (offset/limit).
import { get, query } from "../api.js";
import { h, replace } from "../dom.js";
import { fmtTime } from "../format.js";
import { pageFrame, renderTopbar, showError } from "../layout.js";
import { pager } from "../pager.js";

const FILTERS = [
  ["user", "User", "name or id"],
  ["action", "Action", "e.g. task.delete or task.*"],
  ["target", "Target id", "an object's id"],
  ["since", "Since", "2026-12-01T00:00Z"],
  ["until", "Until", "2026-12-02T00:00Z"],
];
const LIMIT = 50;
const ID = /^[0-9a-f]{32}$/;

function target(item) {
  const id = item.target_id || "";
  const text = [item.target_type, id].filter(Boolean).join(" ");
  return item.target_type === "task" && ID.test(id) && item.action !== "task.delete"
    ? h("a", { href: `/tasks/${id}` }, text) : text;
}

function detail(d) {
  const shown = Object.entries(d || {}).filter(([k]) => k !== "fields").map(([k, v]) => `${k}=${v}`);
  if (!shown.length && d && d.fields) shown.push(`fields: ${d.fields.join(", ")}`);
  return shown.join(" ");
}

export async function render() {
  const answer = await renderTopbar("audit");
  const body = pageFrame("Audit log", h("a", { href: "/admin" }, "Users and access"));
  if (!answer.user.is_admin) {
    replace(body, h("div", { class: "empty", role: "alert" },
      h("strong", {}, "Admins only"), h("p", {}, "Ask an admin to read the audit log.")));
    return;
  }
  const params = new URLSearchParams(location.search);
  const inputs = Object.fromEntries(FILTERS.map(([key, , hint]) =>
    [key, h("input", { name: key, type: "text", placeholder: hint, value: params.get(key) || "" })]));
  const form = h("form", { class: "filter-row", role: "search", "aria-label": "Filter the audit log",
    onsubmit: (event) => { event.preventDefault(); load(0, true); } },
    FILTERS.map(([key, label]) => h("label", { class: "filter" }, label, inputs[key])),
    h("button", { type: "submit", class: "btn" }, "Apply"));
  const list = h("div", {});
  replace(body, h("div", { class: "filters" }, form), list);

  async function load(offset, remember = false) {
    const filters = Object.fromEntries(FILTERS.map(([key]) => [key, inputs[key].value.trim()]));
    if (remember) history.replaceState(null, "", "/audit" + query(filters));
    let page;
    try {
      page = await get("/audit" + query({ ...filters, offset, limit: LIMIT }));
    } catch (err) {
      if (err.status !== 401) showError(list, err, "Could not load the audit log");
      return;
    }
    replace(list,
      h("div", { class: "table-scroll" }, h("table", { class: "grid", id: "audit-table", "aria-label": "Audit log" },
        h("thead", {}, h("tr", {}, ["Time", "User", "Action", "Target", "From", "Detail"].map((t) => h("th", {}, t)))),
        h("tbody", {}, page.items.map((x) => h("tr", { "data-action": x.action },
          h("td", { title: x.time }, fmtTime(x.time)),
          h("td", { class: "strong" }, x.user_name || "—"),
          h("td", {}, h("code", {}, x.action)),
          h("td", {}, target(x)),
          h("td", { title: x.via ? `via ${x.via}` : null }, x.address || ""),
          h("td", {}, detail(x.detail))))))),
      page.items.length ? null : h("p", { class: "muted" }, "Nothing recorded matches."),
      pager({ offset, limit: LIMIT, total: page.total, label: "entries", onChange: (o) => load(o) }));
  }
  await load(0);
}
