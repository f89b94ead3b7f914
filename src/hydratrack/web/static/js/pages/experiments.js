// "/projects/{id}": the experiments table (sort, filter, server-side paging, multi-select).
import { get, post } from "../api.js";
import { h, replace, statusBadge, STATUSES, LIVE_STATUSES } from "../dom.js";
import { fmtDuration, fmtNumber, fmtTime, taskDuration } from "../format.js";
import { dialog, errorText, notify, pageFrame, renderTopbar, showError } from "../layout.js";
import { pager } from "../pager.js";
import { queueOptions } from "../queue_picker.js";

const LIMIT = 50;
const SORTABLE = { name: "name", status: "status", started: "started", created: "created", last_update: "last_update" };
const splitList = (text) => (text || "").split(",").map((s) => s.trim()).filter(Boolean);

/** Table state <-> the page URL, so a reload or a shared link shows the same view. */
function readState(projectId) {
  const qs = new URLSearchParams(location.search);
  let saved = {};
  try {
    saved = JSON.parse(localStorage.getItem(`ht.columns.${projectId}`) || "{}") || {};
  } catch (err) {
    saved = {}; // a damaged entry: start with no chosen columns
  }
  return {
    status: qs.get("status") || "",
    tag: qs.get("tag") || "",
    q: qs.get("q") || "",
    param: qs.get("param") || "",
    archived: qs.get("archived") === "true",
    order_by: qs.get("order_by") || "-created",
    offset: Number(qs.get("offset") || 0) || 0,
    params: qs.has("params") ? splitList(qs.get("params")) : (saved.params || []),
    metrics: qs.has("metrics") ? splitList(qs.get("metrics")) : (saved.metrics || []),
  };
}

function writeState(projectId, s) {
  const qs = new URLSearchParams();
  for (const key of ["status", "tag", "q", "param"]) if (s[key]) qs.set(key, s[key]);
  if (s.archived) qs.set("archived", "true");
  if (s.order_by !== "-created") qs.set("order_by", s.order_by);
  if (s.offset) qs.set("offset", String(s.offset));
  if (s.params.length) qs.set("params", s.params.join(","));
  if (s.metrics.length) qs.set("metrics", s.metrics.join(","));
  const text = qs.toString();
  history.replaceState(null, "", location.pathname + (text ? "?" + text : ""));
  localStorage.setItem(`ht.columns.${projectId}`, JSON.stringify({ params: s.params, metrics: s.metrics }));
}

export async function render(projectId) {
  await renderTopbar("projects");
  const state = readState(projectId);
  const selected = new Set();
  let project;
  try {
    project = await get(`/projects/${projectId}`);
  } catch (err) {
    showError(pageFrame("Experiments"), err, "Could not load this project");
    return;
  }
  const suggestions = {};
  let suggested = false;
  const filters = filterBar(state, () => { state.offset = 0; load(); }, suggestions);
  const actions = h("div", { class: "selection-actions", role: "toolbar", "aria-label": "Selected experiments" });
  const body = pageFrame(project.name,
    h("span", { class: "muted" }, project.description || ""),
    h("a", { class: "btn btn-quiet back", href: "/" }, "All projects"));
  const tableSlot = h("div", { class: "table-slot" });
  body.append(filters, actions, tableSlot);
  let items = [];
  let timer = null;

  function renderActions() {
    const n = selected.size;
    const ids = [...selected];
    replace(actions,
      h("span", { class: "muted" }, n ? `${n} selected` : "Select experiments to compare, archive or enqueue"),
      h("button", { type: "button", class: "btn", disabled: n < 2, id: "compare-selected",
        onclick: () => location.assign(`/compare?ids=${ids.join(",")}`) }, "Compare"),
      h("button", { type: "button", class: "btn", disabled: n < 1, id: "archive-selected",
        onclick: () => bulk(state.archived ? "Unarchive" : "Archive", ids,
          (id) => post(`/tasks/${id}/archive`, { archived: !state.archived })) },
        state.archived ? "Unarchive" : "Archive"),
      h("button", { type: "button", class: "btn", disabled: n < 1, id: "enqueue-selected",
        onclick: () => enqueueSelected(ids) }, "Enqueue"));
  }

  async function enqueueSelected(ids) {
    const options = await queueOptions();
    const values = await dialog({ title: `Enqueue ${ids.length} experiment(s)`, submit: "Enqueue",
      message: "Only drafts can be enqueued.", fields: [{ name: "queue", label: "Queue", options }] });
    if (values) await bulk("Enqueue", ids, (id) => post(`/tasks/${id}/enqueue`, { queue: values.queue }));
  }

  async function bulk(verb, ids, call) {
    const results = await Promise.allSettled(ids.map(call));
    const failed = results.map((r, i) => [r, ids[i]]).filter(([r]) => r.status === "rejected");
    const done = ids.length - failed.length;
    if (done) notify(`${verb}: ${done} experiment(s) done`, "ok");
    for (const [r, id] of failed) {
      const name = (items.find((t) => t.id === id) || { name: id }).name;
      notify(`${verb} ${name}: ${errorText(r.reason)}`, "error");
    }
    selected.clear();
    await load();
  }

  function sortHeader(label, key) {
    const field = SORTABLE[key];
    const current = state.order_by.replace(/^-/, "");
    const desc = state.order_by.startsWith("-");
    const sort = current === field ? (desc ? "descending" : "ascending") : "none";
    return h("th", { "aria-sort": sort, scope: "col" },
      h("button", { type: "button", class: "sort", onclick: () => {
        state.order_by = current === field && !desc ? `-${field}` : field;
        state.offset = 0;
        load();
      } }, label, sort === "none" ? "" : (desc ? " ↓" : " ↑")));
  }

  function row(task) {
    const box = h("input", { type: "checkbox", checked: selected.has(task.id), "aria-label": `Select ${task.name}`,
      onchange: (ev) => { if (ev.target.checked) selected.add(task.id); else selected.delete(task.id); renderActions(); } });
    return h("tr", { dataset: { id: task.id }, class: selected.has(task.id) ? "selected" : null },
      h("td", { class: "check" }, box),
      h("td", {}, h("a", { href: `/tasks/${task.id}`, class: "strong" }, task.name)),
      h("td", {}, statusBadge(task.status)),
      h("td", {}, task.user ? task.user.name : "—"),
      h("td", {}, fmtTime(task.started)),
      h("td", { class: "num" }, fmtDuration(taskDuration(task))),
      h("td", {}, (task.tags || []).map((t) => h("span", { class: "tag" }, t))),
      state.metrics.map((m) => h("td", { class: "num" }, fmtNumber((task.last_metrics || {})[m]))),
      state.params.map((p) => h("td", { class: "mono" }, (task.params || {})[p] ?? "—")));
  }

  async function load() {
    clearTimeout(timer);
    writeState(projectId, state);
    const q = { project_id: projectId, offset: state.offset, limit: LIMIT, order_by: state.order_by,
      status: state.status, tag: state.tag, q: state.q, param: state.param, archived: state.archived ? "true" : "",
      params: state.params.join(","), metrics: state.metrics.join(",") };
    let answer;
    try {
      answer = await get("/tasks", q);
    } catch (err) {
      showError(tableSlot, err, "Could not load experiments");
      return;
    }
    items = answer.items;
    if (!suggested && items.length) {
      suggested = true;
      suggestColumns(items[0].id, suggestions).catch(() => { suggested = false; });
    }
    const allBox = h("input", { type: "checkbox", "aria-label": "Select all on this page",
      checked: items.length > 0 && items.every((t) => selected.has(t.id)),
      onchange: (ev) => { for (const t of items) ev.target.checked ? selected.add(t.id) : selected.delete(t.id); load(); } });
    const table = items.length
      ? h("table", { class: "grid", id: "experiments-table" },
        h("thead", {}, h("tr", {}, h("th", { class: "check" }, allBox), sortHeader("Name", "name"),
          sortHeader("Status", "status"), h("th", { scope: "col" }, "User"), sortHeader("Started", "started"),
          h("th", { scope: "col", class: "num" }, "Duration"), h("th", { scope: "col" }, "Tags"),
          state.metrics.map((m) => h("th", { scope: "col", class: "num", title: "last value" }, m)),
          state.params.map((p) => h("th", { scope: "col" }, p)))),
        h("tbody", {}, items.map(row)))
      : h("div", { class: "empty" }, h("strong", {}, "No experiments match these filters."));
    replace(tableSlot, h("div", { class: "table-scroll" }, table),
      pager({ offset: state.offset, limit: LIMIT, total: answer.total, label: "experiments",
        onChange: (o) => { state.offset = o; load(); } }));
    renderActions();
    if (items.some((t) => LIVE_STATUSES.has(t.status))) {
      timer = setTimeout(() => { if (!document.hidden) load(); else timer = setTimeout(load, 5000); }, 5000);
    }
  }
  renderActions();
  await load();
}

/** Fill the column pickers with the names found on one experiment of the list. */
async function suggestColumns(taskId, suggestions) {
  const [hp, last] = await Promise.all([get(`/tasks/${taskId}/hyperparams`), get(`/tasks/${taskId}/scalars/last`)]);
  const params = Object.entries(hp).flatMap(([sec, ps]) => Object.keys(ps || {}).map((n) => `${sec}/${n}`)).sort();
  const metrics = Object.entries(last).flatMap(([m, vs]) => Object.keys(vs || {}).map((v) => `${m}/${v}`)).sort();
  for (const [key, names] of [["params", params], ["metrics", metrics]]) {
    const picker = suggestions[key];
    if (picker) replace(picker, h("option", { value: "" }, names.length ? "add…" : "none found"), names.map((n) => h("option", { value: n }, n)));
  }
}

function filterBar(state, onChange, suggestions) {
  let timer = null;
  const later = () => { clearTimeout(timer); timer = setTimeout(onChange, 250); };
  const text = (id, label, key, placeholder) => {
    const input = h("input", { id, type: "search", value: state[key], placeholder,
      oninput: () => { state[key] = input.value.trim(); later(); } });
    return h("label", { for: id, class: "filter" }, label, input);
  };
  const columns = (id, label, key, placeholder) => {
    const input = h("input", { id, type: "text", value: state[key].join(", "), placeholder,
      onchange: () => { state[key] = splitList(input.value); onChange(); } });
    const picker = h("select", { id: `${id}-add`, class: "column-picker", "aria-label": `Add to ${label.toLowerCase()}`,
      onchange: () => {
        if (!picker.value) return;
        state[key] = [...new Set([...state[key], picker.value])];
        input.value = state[key].join(", ");
        picker.value = "";
        onChange();
      } }, h("option", { value: "" }, "add…"));
    suggestions[key] = picker;
    return h("div", { class: "filter-with-picker" }, h("label", { for: id, class: "filter wide" }, label, input), picker);
  };
  const status = h("select", { id: "filter-status", onchange: () => { state.status = status.value; onChange(); } },
    h("option", { value: "" }, "any"),
    STATUSES.map((s) => h("option", { value: s, selected: state.status === s }, s.replace("_", " "))));
  const archived = h("input", { id: "filter-archived", type: "checkbox", checked: state.archived,
    onchange: () => { state.archived = archived.checked; onChange(); } });
  return h("details", { class: "filters", open: true },
    h("summary", {}, "Filters and columns"),
    h("div", { class: "filter-row" },
      text("filter-q", "Text", "q", "name or comment"),
      h("label", { for: "filter-status", class: "filter" }, "Status", status),
      text("filter-tag", "Tag", "tag", "tag"),
      text("filter-param", "Hyperparameter", "param", "Hydra/db=mysql"),
      h("label", { for: "filter-archived", class: "filter check-label" }, archived, "Archived")),
    h("div", { class: "filter-row" },
      columns("columns-params", "Hyperparameter columns", "params", "Hydra/db, Hydra/optim.lr"),
      columns("columns-metrics", "Scalar columns (last value)", "metrics", "loss/train, acc/val")));
}
