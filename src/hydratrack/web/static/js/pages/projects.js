// "/": the projects, with task counts and last activity.
import { get } from "../api.js";
import { h, replace } from "../dom.js";
import { fmtAgo, fmtTime } from "../format.js";
import { pageFrame, renderTopbar, showError } from "../layout.js";
import { pager } from "../pager.js";

const LIMIT = 50;

export async function render() {
  await renderTopbar("projects");
  const state = { q: "", offset: 0 };
  const search = h("input", { type: "search", id: "project-search", placeholder: "Filter projects", "aria-label": "Filter projects by name" });
  const body = pageFrame("Projects", h("div", { class: "toolbar" }, search));
  const list = h("div", {});
  body.append(list);
  let timer = null;
  search.addEventListener("input", () => {
    clearTimeout(timer);
    timer = setTimeout(() => { state.q = search.value.trim(); state.offset = 0; load(); }, 200);
  });

  async function load() {
    let answer;
    try {
      answer = await get("/projects", { q: state.q, offset: state.offset, limit: LIMIT });
    } catch (err) {
      showError(list, err);
      return;
    }
    if (!answer.items.length) {
      replace(list, h("div", { class: "empty" },
        h("strong", {}, state.q ? "No project matches." : "No projects yet."),
        state.q ? null : h("p", {}, "Run a script with Task.init(project_name=..., task_name=...) and it appears here.")));
      return;
    }
    replace(list,
      h("table", { class: "grid", id: "projects-table" },
        h("thead", {}, h("tr", {}, h("th", {}, "Project"), h("th", {}, "Description"),
          h("th", { class: "num" }, "Experiments"), h("th", {}, "Last activity"), h("th", {}, "Created"))),
        h("tbody", {}, answer.items.map((p) => h("tr", {},
          h("td", {}, h("a", { href: `/projects/${p.id}`, class: "strong" }, p.name)),
          h("td", { class: "muted" }, p.description || ""),
          h("td", { class: "num" }, String(p.task_count ?? "—")),
          h("td", { title: fmtTime(p.last_activity) }, p.last_activity ? fmtAgo(p.last_activity) : "—"),
          h("td", {}, fmtTime(p.created)))))),
      pager({ offset: state.offset, limit: LIMIT, total: answer.total, label: "projects",
        onChange: (o) => { state.offset = o; load(); } }));
  }
  await load();
}
