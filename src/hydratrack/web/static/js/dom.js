// Building DOM nodes without innerHTML (all text goes in as text, never as markup).

/**
 * h("a", {href: "/x", class: "link", onclick: fn}, "text", child, [more])
 * Attributes: "class", "dataset" (object), "on<event>" (listener), booleans, others as attributes.
 */
export function h(tag, attrs, ...children) {
  const el = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs || {})) {
    if (value === null || value === undefined || value === false) continue;
    if (key.startsWith("on") && typeof value === "function") {
      el.addEventListener(key.slice(2), value);
    } else if (key === "dataset") {
      Object.assign(el.dataset, value);
    } else if (key === "value" && "value" in el) {
      el.value = value;
    } else if (key === "checked" || key === "selected" || key === "disabled") {
      el[key] = Boolean(value);
    } else {
      el.setAttribute(key, value === true ? "" : String(value));
    }
  }
  append(el, children);
  return el;
}

function append(el, children) {
  for (const child of children) {
    if (child === null || child === undefined || child === false) continue;
    if (Array.isArray(child)) append(el, child);
    else el.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
}

/** Replace all children of el. */
export function replace(el, ...children) {
  el.replaceChildren();
  append(el, children);
  return el;
}

export function statusBadge(status) {
  return h("span", { class: `status status-${status}`, title: `status: ${status}` },
    (status || "").replace("_", " "));
}

export const STATUSES = ["draft", "queued", "in_progress", "completed", "failed", "stopped", "published"];
export const LIVE_STATUSES = new Set(["queued", "in_progress"]);
