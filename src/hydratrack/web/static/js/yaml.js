// Read-only YAML highlighting (keys, strings, numbers, booleans, ${interpolations}, comments).
import { h } from "./dom.js";

const KEY = /^(\s*)(- )?((?:"[^"]*"|'[^']*'|[^\s#'"][^:#]*?)):(?=\s|$)/;
const SCALAR_KIND = [
  [/^(true|false|True|False|yes|no|on|off)$/, "y-bool"],
  [/^(null|~|None)$/, "y-null"],
  [/^[-+]?(\d[\d_]*)?(\.\d+)?([eE][-+]?\d+)?$/, "y-num"],
  [/^[-+]?\.(inf|Inf|INF)$|^\.(nan|NaN|NAN)$/, "y-num"],
  [/^(["']).*\1$/, "y-str"],
];

/** Split a value into text and ${...} interpolation pieces. */
function valueNodes(text, cls) {
  const out = [];
  const re = /\$\{[^}]*\}/g;
  let last = 0;
  for (const m of text.matchAll(re)) {
    if (m.index > last) out.push(h("span", { class: cls }, text.slice(last, m.index)));
    out.push(h("span", { class: "y-interp" }, m[0]));
    last = m.index + m[0].length;
  }
  if (last < text.length) out.push(h("span", { class: cls }, text.slice(last)));
  return out;
}

function scalar(text) {
  const m = text.match(/^(.*?)(\s+#.*)?$/);
  const value = m[1];
  const trimmed = value.trim();
  const kind = trimmed === "" ? "" : (SCALAR_KIND.find(([re]) => re.test(trimmed)) || [null, "y-str"])[1];
  return [...valueNodes(value, kind), m[2] ? h("span", { class: "y-comment" }, m[2]) : null];
}

function line(text) {
  if (/^\s*#/.test(text)) return [h("span", { class: "y-comment" }, text)];
  const k = text.match(KEY);
  if (!k) {
    const item = text.match(/^(\s*- )(.*)$/);
    return item ? [item[1], ...scalar(item[2])] : scalar(text);
  }
  return [k[1], k[2] || "", h("span", { class: "y-key" }, k[3]), ":", ...scalar(text.slice(k[0].length))];
}

/** A <pre> with the YAML text highlighted line by line. */
export function yamlBlock(text, attrs = {}) {
  const lines = (text || "").replace(/\n$/, "").split("\n");
  return h("pre", { class: "code yaml", ...attrs },
    h("code", {}, lines.map((l, i) => [h("span", { class: "line" }, line(l)), i < lines.length - 1 ? "\n" : ""])));
}
