// Line diff of two texts (longest common subsequence), shown as a unified diff with context.
import { h } from "./dom.js";

const MAX_CELLS = 4_000_000;

/** [{op: " " | "-" | "+", text}] turning a into b. */
export function diffLines(a, b) {
  const x = (a || "").replace(/\n$/, "").split("\n");
  const y = (b || "").replace(/\n$/, "").split("\n");
  let start = 0;
  while (start < x.length && start < y.length && x[start] === y[start]) start += 1;
  let endX = x.length;
  let endY = y.length;
  while (endX > start && endY > start && x[endX - 1] === y[endY - 1]) { endX -= 1; endY -= 1; }
  const mx = x.slice(start, endX);
  const my = y.slice(start, endY);
  const out = x.slice(0, start).map((text) => ({ op: " ", text }));
  if ((mx.length + 1) * (my.length + 1) > MAX_CELLS) {
    out.push(...mx.map((text) => ({ op: "-", text })), ...my.map((text) => ({ op: "+", text })));
  } else {
    const n = mx.length;
    const m = my.length;
    const lcs = Array.from({ length: n + 1 }, () => new Uint32Array(m + 1));
    for (let i = n - 1; i >= 0; i -= 1) {
      for (let j = m - 1; j >= 0; j -= 1) {
        lcs[i][j] = mx[i] === my[j] ? lcs[i + 1][j + 1] + 1 : Math.max(lcs[i + 1][j], lcs[i][j + 1]);
      }
    }
    let i = 0;
    let j = 0;
    while (i < n || j < m) {
      if (i < n && j < m && mx[i] === my[j]) { out.push({ op: " ", text: mx[i] }); i += 1; j += 1; }
      else if (i < n && (j >= m || lcs[i + 1][j] >= lcs[i][j + 1])) { out.push({ op: "-", text: mx[i] }); i += 1; }
      else { out.push({ op: "+", text: my[j] }); j += 1; }
    }
  }
  out.push(...x.slice(endX).map((text) => ({ op: " ", text })));
  return out;
}

/** A <pre> with the changed lines highlighted and `context` unchanged lines around them. */
export function diffBlock(lines, context = 3, attrs = {}) {
  const keep = new Array(lines.length).fill(false);
  lines.forEach((l, i) => {
    if (l.op !== " ") for (let k = Math.max(0, i - context); k <= Math.min(lines.length - 1, i + context); k += 1) keep[k] = true;
  });
  if (!lines.some((l) => l.op !== " ")) {
    return h("p", { class: "muted same", ...attrs }, "Identical.");
  }
  const parts = [];
  let skipped = 0;
  lines.forEach((l, i) => {
    if (!keep[i]) { skipped += 1; return; }
    if (skipped) { parts.push(h("span", { class: "d-skip" }, `… ${skipped} unchanged line(s)\n`)); skipped = 0; }
    const cls = l.op === "+" ? "d-add" : l.op === "-" ? "d-del" : "d-ctx";
    parts.push(h("span", { class: cls }, `${l.op} ${l.text}\n`));
  });
  if (skipped) parts.push(h("span", { class: "d-skip" }, `… ${skipped} unchanged line(s)\n`));
  return h("pre", { class: "code diff", ...attrs }, parts);
}
