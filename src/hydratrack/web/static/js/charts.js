// Line charts on uPlot (vendored by scripts/build-web). Without the vendor files the pages
// still work and say how to get the charts.
import { h } from "./dom.js";

const VENDOR = "/static/vendor/uplot/";
const COLORS = ["#2f6fdf", "#d9480f", "#2b8a3e", "#ae3ec9", "#e8590c", "#1098ad", "#5c940d", "#c2255c", "#495057", "#f08c00"];
let loading = null;

/** The uPlot class, or null when the vendor files are missing. */
export function loadChartLibrary() {
  if (!loading) {
    loading = import(VENDOR + "uPlot.esm.js").then((m) => {
      document.head.append(h("link", { rel: "stylesheet", href: VENDOR + "uPlot.min.css" }));
      return m.default;
    }).catch(() => null);
  }
  return loading;
}

export function missingChartsNote() {
  return h("p", { class: "note", id: "charts-missing", role: "note" },
    "Charts need the front-end files: run ", h("code", {}, "scripts/build-web"),
    " (installs them from frontend/package-lock.json), then reload. Last values are listed below.");
}

/** Merge series with their own x values into uPlot's aligned [xs, ys1, ys2, ...] form
 *  (a value that is not a number becomes a gap). */
export function alignSeries(series) {
  const xs = [...new Set(series.flatMap((s) => s.x))].sort((a, b) => a - b);
  const index = new Map(xs.map((x, i) => [x, i]));
  const columns = series.map((s) => {
    const col = new Array(xs.length).fill(null);
    // "NaN" / "Infinity" / "-Infinity" (strings in the API's answers) are gaps in a chart
    s.x.forEach((x, i) => { const y = s.y[i]; col[index.get(x)] = typeof y === "number" ? y : null; });
    return col;
  });
  return [xs, ...columns];
}

const DASHES = [null, [6, 4], [2, 3], [10, 3, 2, 3]];

/** uPlot options of one line: its own colour, or `color`/`dash` indexes set by the caller. */
function seriesOpts(s, i) {
  const dash = s.dash ? DASHES[s.dash % DASHES.length] : null;
  return { label: s.label, stroke: COLORS[(s.color ?? i) % COLORS.length], width: 1.5, spanGaps: true,
    dash: dash || undefined, points: { show: s.x.length < 60 } };
}

/**
 * A chart of several lines. series: [{label, x: [...], y: [...]}]; timeAxis: x are epoch seconds.
 * Answers {el, update(series)}; drag on the plot zooms, double-click resets.
 */
export function lineChart(uPlot, { title, series, timeAxis = false, width = 560, height = 260 }) {
  const el = h("figure", { class: "chart", "aria-label": `${title} chart` });
  const opts = {
    title, width, height,
    scales: { x: { time: timeAxis } },
    axes: [{ label: timeAxis ? "time" : "iteration" }, {}],
    series: [{ label: timeAxis ? "time" : "iter" }, ...series.map(seriesOpts)],
    cursor: { drag: { x: true, y: false } },
    legend: { live: true },
    hooks: { setSelect: [(u) => { if (u.select.width > 0) zoomed = true; }] },
  };
  let zoomed = false;
  el.addEventListener("dblclick", () => { zoomed = false; });
  let plot = new uPlot(opts, alignSeries(series), el);
  let labels = series.map((s) => s.label).join("\u0000");
  return {
    el,
    update(next) {
      const nextLabels = next.map((s) => s.label).join("\u0000");
      if (nextLabels === labels) {
        plot.setData(alignSeries(next), !zoomed);
        return;
      }
      plot.destroy();
      opts.series = [opts.series[0], ...next.map(seriesOpts)];
      plot = new uPlot(opts, alignSeries(next), el);
      labels = nextLabels;
    },
  };
}

/** Width for charts in a container: two per row on a wide screen, one on a narrow one. */
export function chartWidth(container) {
  const w = container.clientWidth || 1100;
  return w >= 1000 ? Math.floor((w - 16) / 2) - 20 : w - 20;
}
