// CONSOLE, SCALARS and ARTIFACTS tabs: what a run produced, updated live while it runs.
import { get } from "./api.js";
import { h, replace, LIVE_STATUSES } from "./dom.js";
import { fmtNumber, fmtSize, fmtTime } from "./format.js";
import { chartWidth, lineChart, loadChartLibrary, missingChartsNote } from "./charts.js";

const CONSOLE_PAGE = 1000;
const CONSOLE_TAIL = 5000;
const CONSOLE_MAX_LINES = 20000;

const consoleChunk = (item) => h("span", { class: item.stream === "stderr" ? "stderr" : null }, item.text);

export const consoleTab = {
  id: "console",
  label: "CONSOLE",
  after: -1,
  async render(panel, task) {
    this.after = -1;
    this.pre = h("pre", { class: "code console", id: "console", "aria-live": "off", tabindex: "0", "aria-label": "Console output" });
    this.empty = h("p", { class: "muted", id: "console-empty" }, "No console output yet.");
    this.live = h("p", { class: "muted live" });
    replace(panel, this.live, this.empty, this.pre);
    // the newest output first (a long run can have millions of lines), then follow it
    const tail = await get(`/tasks/${task.id}/console`, { order: "desc", limit: CONSOLE_TAIL });
    const items = tail.items.slice().reverse();
    if (items.length === CONSOLE_TAIL) {
      panel.insertBefore(h("p", { class: "muted", id: "console-truncated" },
        `Showing the last ${CONSOLE_TAIL} console chunks; earlier output is not shown.`), this.pre);
    }
    for (const item of items) this.pre.append(consoleChunk(item));
    if (items.length) this.after = items[items.length - 1].seq;
    await this.fetchMore(task);
    this.pre.scrollTop = this.pre.scrollHeight;
  },
  async refresh(panel, task) {
    if (!this.pre || !panel.contains(this.pre)) return this.render(panel, task);
    await this.fetchMore(task);
  },
  async fetchMore(task) {
    const pre = this.pre;
    const atBottom = pre.scrollHeight - pre.scrollTop - pre.clientHeight < 40;
    for (;;) {
      const answer = await get(`/tasks/${task.id}/console`, { after: this.after, limit: CONSOLE_PAGE });
      for (const item of answer.items) pre.append(consoleChunk(item));
      if (answer.next_after !== undefined && answer.next_after !== null) this.after = answer.next_after;
      else if (answer.items.length) this.after = answer.items[answer.items.length - 1].seq;
      if (answer.items.length < CONSOLE_PAGE) break;
    }
    while (pre.childNodes.length > CONSOLE_MAX_LINES) pre.firstChild.remove();
    this.empty.hidden = pre.childNodes.length > 0;
    this.live.textContent = LIVE_STATUSES.has(task.status) ? "Live: new output appears as it arrives." : "";
    if (atBottom) pre.scrollTop = pre.scrollHeight;
  },
};

export const scalarsTab = {
  id: "scalars",
  label: "SCALARS",
  xAxis: "iter",
  async render(panel, task) {
    const select = h("select", { id: "x-axis", onchange: () => { this.xAxis = select.value; this.render(panel, task); } },
      h("option", { value: "iter", selected: this.xAxis === "iter" }, "Iteration"),
      h("option", { value: "time", selected: this.xAxis === "time" }, "Time"));
    this.grid = h("div", { class: "charts", id: "charts" });
    this.charts = new Map();
    const texts = h("div", { id: "text-reports" });
    replace(panel, h("div", { class: "toolbar" }, h("label", { for: "x-axis" }, "X axis ", select),
      h("span", { class: "muted" }, "Drag across a plot to zoom, double-click to reset.")), this.grid, texts);
    await Promise.all([this.draw(task), textReports(texts, task)]);
  },
  async refresh(panel, task) {
    if (!this.grid || !panel.contains(this.grid)) return this.render(panel, task);
    await this.draw(task);
  },
  async draw(task) {
    const [data, uPlot] = await Promise.all([
      get(`/tasks/${task.id}/scalars`, { x_axis: this.xAxis, max_points: 2000 }), loadChartLibrary()]);
    const metrics = Object.keys(data).sort();
    if (!metrics.length) {
      replace(this.grid, h("p", { class: "muted", id: "no-scalars" }, "No scalars reported yet."));
      this.charts.clear();
      return;
    }
    if (!uPlot) {
      replace(this.grid, missingChartsNote(), lastValuesTable(data));
      return;
    }
    if (this.grid.querySelector("#no-scalars")) replace(this.grid);
    const width = chartWidth(this.grid);
    for (const metric of metrics) {
      const series = Object.entries(data[metric]).sort(([a], [b]) => a.localeCompare(b))
        .map(([variant, s]) => ({ label: variant, x: s.x, y: s.y }));
      const chart = this.charts.get(metric);
      if (chart) chart.update(series);
      else {
        const made = lineChart(uPlot, { title: metric, series, timeAxis: this.xAxis === "time", width });
        this.charts.set(metric, made);
        this.grid.append(made.el);
      }
    }
  },
};

/** Text reports (Logger.report_text), newest last. */
async function textReports(container, task) {
  const answer = await get(`/tasks/${task.id}/texts`);
  if (!answer.items.length) return;
  replace(container, h("h2", {}, "Text reports"), answer.items.map((t) => h("section", { class: "text-report" },
    h("h3", {}, t.title || "text", h("span", { class: "muted type" }, `iteration ${t.iter ?? "—"} · ${fmtTime(t.ts ? new Date(t.ts * 1000).toISOString() : null)}`)),
    h("pre", { class: "code" }, t.text))));
}

/** Last value of each series, for when the charts cannot be drawn. */
export function lastValuesTable(data) {
  const rows = [];
  for (const [metric, variants] of Object.entries(data)) {
    for (const [variant, s] of Object.entries(variants)) {
      rows.push(h("tr", {}, h("td", {}, metric), h("td", {}, variant), h("td", { class: "num" }, String(s.y.length)),
        h("td", { class: "num" }, fmtNumber(s.y[s.y.length - 1]))));
    }
  }
  return h("table", { class: "grid compact" },
    h("thead", {}, h("tr", {}, h("th", {}, "Metric"), h("th", {}, "Variant"), h("th", { class: "num" }, "Points"),
      h("th", { class: "num" }, "Last value"))), h("tbody", {}, rows));
}

export const artifactsTab = {
  id: "artifacts",
  label: "ARTIFACTS",
  async render(panel, task) {
    const answer = await get(`/tasks/${task.id}/artifacts`);
    if (!answer.items.length) {
      replace(panel, h("p", { class: "muted" }, "No artifacts."));
      return;
    }
    replace(panel, h("table", { class: "grid", id: "artifacts-table" },
      h("thead", {}, h("tr", {}, h("th", {}, "Name"), h("th", { class: "num" }, "Size"), h("th", {}, "Type"),
        h("th", {}, "SHA-256"), h("th", {}, "Created"), h("th", {}, h("span", { class: "sr-only" }, "Download")))),
      h("tbody", {}, answer.items.map((a) => h("tr", {},
        h("td", { class: "strong" }, a.name), h("td", { class: "num" }, fmtSize(a.size)),
        h("td", { class: "muted" }, a.content_type || ""),
        h("td", { class: "mono", title: a.hash || "" }, (a.hash || "").replace(/^sha256:/, "").slice(0, 12)),
        h("td", {}, fmtTime(a.created)),
        h("td", {}, h("a", { class: "btn", download: a.name, "aria-label": `Download ${a.name}`,
          href: `/api/v1/tasks/${task.id}/artifacts/${encodeURIComponent(a.name)}/file` }, "Download")))))));
  },
};
