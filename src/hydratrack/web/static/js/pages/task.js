// "/tasks/{id}": one experiment, with tabs, actions and live updates while it runs.
import { get } from "../api.js";
import { h, replace, statusBadge, LIVE_STATUSES } from "../dom.js";
import { fmtDuration, taskDuration } from "../format.js";
import { main, renderTopbar, showError } from "../layout.js";
import { actionBar } from "../task_actions.js";
import { configurationTab } from "../task_config.js";
import { executionTab, infoTab } from "../task_info.js";
import { artifactsTab, consoleTab, scalarsTab } from "../task_output.js";

const TABS = [executionTab, configurationTab, consoleTab, scalarsTab, artifactsTab, infoTab];
const POLL_MS = 2000;

export async function render(taskId) {
  await renderTopbar("projects");
  let task;
  try {
    task = await get(`/tasks/${taskId}`);
  } catch (err) {
    showError(main(), err, "Could not load this experiment");
    return;
  }
  const head = h("div", { class: "task-head" });
  const tablist = h("div", { class: "tabs", role: "tablist", "aria-label": "Experiment sections" });
  const panel = h("section", { class: "tab-panel", role: "tabpanel", id: "tab-panel", tabindex: "0" });
  replace(main(), head, tablist, panel);

  const wanted = location.hash.slice(1);
  let current = TABS.find((t) => t.id === wanted) || TABS[0];
  let timer = null;

  const page = {
    get task() { return task; },
    /** Re-read the task (after an action) and redraw what depends on it. */
    async reload(newTask) {
      const before = task.status;
      task = newTask || await get(`/tasks/${taskId}`);
      renderHead();
      if (before !== task.status) await show(current, false); // e.g. reset: outputs are gone
      else if (current.refresh) await current.refresh(panel, task, page);
      else if (!current.keepOnUpdate) await show(current, false);
      schedule();
    },
    /** Before an action: true unless the user keeps unsaved edits of the open tab. */
    confirmDiscard: () => !current.canLeave || current.canLeave(),
    show: (id) => show(TABS.find((t) => t.id === id), true),
  };

  function renderHead() {
    document.title = `${task.name} · hydratrack`;
    const dur = taskDuration(task);
    replace(head,
      h("nav", { class: "crumbs", "aria-label": "Breadcrumb" },
        h("a", { href: "/" }, "Projects"), " / ",
        h("a", { href: `/projects/${task.project.id}` }, task.project.name)),
      h("div", { class: "title-row" },
        h("h1", { id: "task-name" }, task.name), statusBadge(task.status),
        task.archived ? h("span", { class: "tag" }, "archived") : null,
        dur !== null ? h("span", { class: "muted" }, fmtDuration(dur)) : null),
      task.status_message || task.status_reason
        ? h("p", { class: "status-message", id: "status-message" },
          [task.status_message, task.status_reason].filter(Boolean).join(" — "))
        : null,
      actionBar(task, page));
  }

  async function show(tab, focus) {
    if (tab !== current && current.canLeave && !current.canLeave()) return;
    if (current.stop) current.stop();
    current = tab;
    if (focus) history.replaceState(null, "", `#${tab.id}`);
    replace(tablist, TABS.map((t) => h("button", {
      type: "button", role: "tab", id: `tab-${t.id}`, "aria-selected": String(t === tab),
      "aria-controls": "tab-panel", tabindex: t === tab ? "0" : "-1", class: t === tab ? "active" : null,
      onclick: () => show(t, true), onkeydown: (ev) => arrowKeys(ev, t),
    }, t.label)));
    panel.setAttribute("aria-labelledby", `tab-${tab.id}`);
    try {
      await tab.render(panel, task, page);
    } catch (err) {
      if (err && err.status === 401) return;
      showError(panel, err, `Could not load ${tab.label.toLowerCase()}`);
    }
    if (focus) document.getElementById(`tab-${tab.id}`).focus();
  }

  function arrowKeys(ev, tab) {
    const i = TABS.indexOf(tab);
    const step = ev.key === "ArrowRight" ? 1 : ev.key === "ArrowLeft" ? -1 : 0;
    if (step) show(TABS[(i + step + TABS.length) % TABS.length], true);
  }

  function schedule() {
    clearTimeout(timer);
    if (!LIVE_STATUSES.has(task.status)) return;
    timer = setTimeout(async () => {
      if (document.hidden) { schedule(); return; }
      try {
        await page.reload();
      } catch (err) {
        schedule();
      }
    }, POLL_MS);
  }

  window.addEventListener("hashchange", () => {
    const tab = TABS.find((t) => t.id === location.hash.slice(1));
    if (tab && tab !== current) show(tab, false);
  });
  renderHead();
  await show(current, false);
  schedule();
}
