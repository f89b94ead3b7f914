// "/compare?ids=a,b,...": hyperparameters and configuration side by side, scalars overlaid.
import { get } from "../api.js";
import { h, replace, statusBadge } from "../dom.js";
import { chartWidth, lineChart, loadChartLibrary, missingChartsNote } from "../charts.js";
import { diffBlock, diffLines } from "../config_diff.js";
import { pageFrame, renderTopbar, showError } from "../layout.js";
import { lastValuesTable } from "../task_output.js";

function paramRows(tasks) {
  const keys = new Set();
  for (const t of tasks) {
    for (const [section, params] of Object.entries(t.hyperparams || {})) {
      for (const name of Object.keys(params || {})) keys.add(`${section}/${name}`);
    }
  }
  const value = (t, key) => {
    const i = key.indexOf("/");
    const p = ((t.hyperparams || {})[key.slice(0, i)] || {})[key.slice(i + 1)];
    return p === undefined ? undefined : String(p.value ?? "");
  };
  return [...keys].sort((a, b) => (a.startsWith("Hydra/") === b.startsWith("Hydra/") ? a.localeCompare(b) : a.startsWith("Hydra/") ? -1 : 1))
    .map((key) => {
      const values = tasks.map((t) => value(t, key));
      return { key, values, differs: values.some((v) => v !== values[0]) };
    });
}

function paramsTable(tasks, onlyDiffs) {
  const rows = paramRows(tasks).filter((r) => !onlyDiffs || r.differs);
  if (!rows.length) return h("p", { class: "muted" }, onlyDiffs ? "No differences in hyperparameters." : "No hyperparameters.");
  return h("div", { class: "table-scroll" }, h("table", { class: "grid compare", id: "compare-params" },
    h("thead", {}, h("tr", {}, h("th", { scope: "col" }, "Hyperparameter"),
      tasks.map((t) => h("th", { scope: "col" }, t.name)))),
    h("tbody", {}, rows.map((r) => h("tr", { class: r.differs ? "differs" : null, dataset: { key: r.key } },
      h("th", { scope: "row", class: "mono" }, r.key),
      r.values.map((v, i) => h("td", { class: `mono${r.differs && v !== r.values[0] ? " cell-diff" : ""}${r.differs && i === 0 ? " cell-base" : ""}`,
        title: r.differs && i > 0 && v !== r.values[0] ? "differs from the first experiment" : null },
      v === undefined ? h("span", { class: "muted" }, "(absent)") : v)))))));
}

function configDiffs(tasks) {
  const names = [...new Set(tasks.flatMap((t) => Object.keys(t.configuration || {})))].sort();
  if (!names.length) return h("p", { class: "muted" }, "No configuration objects.");
  const base = tasks[0];
  return names.map((name) => h("section", { class: "config-object" },
    h("h3", {}, name),
    tasks.slice(1).map((t) => h("div", { class: "diff-pair" },
      h("p", { class: "muted" }, h("span", { class: "d-del-key" }, `− ${base.name}`), "  ", h("span", { class: "d-add-key" }, `+ ${t.name}`)),
      diffBlock(diffLines(((base.configuration || {})[name] || {}).value || "", ((t.configuration || {})[name] || {}).value || ""),
        3, { "aria-label": `${name} differences between ${base.name} and ${t.name}` })))));
}

async function scalarCharts(container, tasks) {
  const [datas, uPlot] = await Promise.all([
    Promise.all(tasks.map((t) => get(`/tasks/${t.id}/scalars`, { max_points: 1000 }))), loadChartLibrary()]);
  const metrics = [...new Set(datas.flatMap((d) => Object.keys(d)))].sort();
  if (!metrics.length) { replace(container, h("p", { class: "muted" }, "No scalars reported.")); return; }
  if (!uPlot) {
    const merged = {};
    datas.forEach((d, i) => { for (const [m, vs] of Object.entries(d)) for (const [v, s] of Object.entries(vs)) (merged[m] ||= {})[`${tasks[i].name} · ${v}`] = s; });
    replace(container, missingChartsNote(), lastValuesTable(merged));
    return;
  }
  replace(container);
  const width = chartWidth(container);
  for (const metric of metrics) {
    const series = [];
    const variants = [...new Set(datas.flatMap((d) => Object.keys(d[metric] || {})))].sort();
    datas.forEach((d, i) => {
      for (const [variant, s] of Object.entries(d[metric] || {}).sort(([a], [b]) => a.localeCompare(b))) {
        // one colour per experiment, one dash pattern per variant
        series.push({ label: `${tasks[i].name} · ${variant}`, x: s.x, y: s.y, color: i, dash: variants.indexOf(variant) });
      }
    });
    container.append(lineChart(uPlot, { title: metric, series, width }).el);
  }
}

export async function render() {
  await renderTopbar("projects");
  const ids = [...new Set((new URLSearchParams(location.search).get("ids") || "").split(",").map((s) => s.trim()).filter(Boolean))];
  const body = pageFrame("Compare experiments");
  if (ids.length < 2) {
    replace(body, h("div", { class: "empty" }, h("strong", {}, "Pick two or more experiments to compare."),
      h("p", {}, "Select them in a project's experiments table and press Compare.")));
    return;
  }
  let tasks;
  try {
    tasks = await Promise.all(ids.map((id) => get(`/tasks/${id}`)));
  } catch (err) {
    showError(body, err, "Could not load the experiments");
    return;
  }
  const onlyDiffs = h("input", { type: "checkbox", id: "only-diffs" });
  const paramSlot = h("div", {});
  const drawParams = () => replace(paramSlot, paramsTable(tasks, onlyDiffs.checked));
  onlyDiffs.addEventListener("change", drawParams);
  const charts = h("div", { class: "charts", id: "compare-charts" }, h("p", { class: "muted" }, "Loading scalars…"));
  replace(body,
    h("div", { class: "compare-heads" }, tasks.map((t, i) => h("div", { class: "compare-head" },
      h("span", { class: "muted" }, i === 0 ? "baseline" : `#${i + 1}`),
      h("a", { href: `/tasks/${t.id}`, class: "strong" }, t.name), statusBadge(t.status),
      h("span", { class: "muted" }, t.project.name)))),
    h("h2", {}, "Hyperparameters"),
    h("label", { for: "only-diffs", class: "check-label" }, onlyDiffs, "Only differences"),
    paramSlot,
    h("h2", {}, "Configuration objects"),
    h("p", { class: "muted" }, "Each experiment against the baseline (the first one)."),
    configDiffs(tasks),
    h("h2", {}, "Scalars"),
    charts);
  drawParams();
  try {
    await scalarCharts(charts, tasks);
  } catch (err) {
    showError(charts, err, "Could not load scalars");
  }
}
