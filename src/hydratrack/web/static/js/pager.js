// Server-side paging controls for lists that answer {items, total}.
import { h } from "./dom.js";

/** Controls for offset/limit paging; onChange(newOffset) is called on a click. */
export function pager({ offset, limit, total, onChange, label = "items" }) {
  const first = total === 0 ? 0 : offset + 1;
  const last = Math.min(offset + limit, total);
  return h("nav", { class: "pager", "aria-label": "Pages" },
    h("span", { class: "muted" }, `${first}–${last} of ${total} ${label}`),
    h("button", { type: "button", class: "btn", disabled: offset <= 0, "aria-label": "Previous page",
      onclick: () => onChange(Math.max(0, offset - limit)) }, "‹ Prev"),
    h("button", { type: "button", class: "btn", disabled: offset + limit >= total, "aria-label": "Next page",
      onclick: () => onChange(offset + limit) }, "Next ›"));
}
