// EXECUTION and INFO tabs of the experiment page.
import { get, patch } from "./api.js";
import { h, replace, statusBadge } from "./dom.js";
import { fmtDuration, fmtTime, taskDuration } from "./format.js";
import { dialog, notify } from "./layout.js";

/** Rename, comment and tag a task (anything but a published one). */
async function editDetails(task, page) {
  await dialog({
    title: "Edit details", submit: "Save",
    fields: [
      { name: "name", label: "Name", value: task.name, required: true },
      { name: "comment", label: "Comment", value: task.comment || "" },
      { name: "tags", label: "Tags (comma separated)", value: (task.tags || []).join(", ") },
    ],
    onSubmit: async (v) => {
      const tags = [...new Set(v.tags.split(",").map((t) => t.trim()).filter(Boolean))];
      const answer = await patch(`/tasks/${task.id}`, { name: v.name.trim(), comment: v.comment, tags });
      notify("Details saved", "ok");
      await page.reload(answer);
    },
  });
}

/** argv as a shell command line (single quotes where needed). */
export function shellLine(words) {
  return words.map((w) => (/^[\w@%+=:,./-]+$/.test(w) ? w : `'${String(w).replace(/'/g, "'\\''")}'`)).join(" ");
}

function facts(rows, id) {
  return h("dl", { class: "facts", id }, rows.filter(Boolean).map(([k, v]) => [h("dt", {}, k), h("dd", {}, v ?? "—")]));
}

const mono = (text) => (text ? h("code", {}, text) : "—");

export const executionTab = {
  id: "execution",
  label: "EXECUTION",
  keepOnUpdate: true, // redrawn when the status changes (queue, worker), not on every poll
  async render(panel, task) {
    if (task.script === undefined) {
      Object.assign(task, await get(`/tasks/${task.id}`));
    }
    const sc = task.script || {};
    const hydra = (task.runtime || {}).hydra;
    const command = [sc.binary || "python", sc.entry_point || "", ...(sc.argv || [])].filter(Boolean);
    const pip = (sc.requirements || {}).pip || {};
    const packages = Object.entries(pip).sort(([a], [b]) => a.localeCompare(b));
    replace(panel,
      h("h2", {}, "Script"),
      facts([
        ["Entry point", mono(sc.entry_point)],
        ["Command line", h("pre", { class: "code inline", id: "command-line" }, shellLine(command))],
        ["Working dir", mono(sc.working_dir)],
        ["Repository", mono(sc.repository)],
        ["Branch", mono(sc.branch)],
        ["Commit", mono(sc.commit)],
        ["Queue", task.queue ? (task.queue.name || task.queue) : "—"],
        ["Worker", task.worker ? (task.worker.name || task.worker) : "—"],
      ], "execution-facts"),
      hydra ? [h("h2", {}, "Hydra"), facts([
        ["Config", mono([hydra.config_path, hydra.config_name].filter(Boolean).join(" / "))],
        ["Hydra version", hydra.version || "—"],
        ["Output dir", mono(hydra.output_dir)],
        ["Config groups", hydra.choices && Object.keys(hydra.choices).length
          ? h("ul", { class: "plain" }, Object.entries(hydra.choices).map(([g, c]) => h("li", {}, h("code", {}, `${g}: ${c}`))))
          : "—"],
        ["Hydra overrides", hydra.overrides && (hydra.overrides.hydra || []).length ? mono(hydra.overrides.hydra.join(" ")) : "—"],
        ["Command line", mono(hydra.command_line)],
      ], "hydra-facts")] : null,
      h("h2", {}, "Uncommitted changes"),
      sc.diff ? h("pre", { class: "code diff" }, sc.diff) : h("p", { class: "muted" }, "None recorded."),
      h("h2", {}, "Installed packages"),
      packages.length
        ? h("table", { class: "grid compact" }, h("thead", {}, h("tr", {}, h("th", {}, "Package"), h("th", {}, "Version"))),
          h("tbody", {}, packages.map(([n, v]) => h("tr", {}, h("td", { class: "mono" }, n), h("td", { class: "mono" }, v)))))
        : h("p", { class: "muted" }, "None recorded."));
  },
};

export const infoTab = {
  id: "info",
  label: "INFO",
  async render(panel, task, page) {
    let parent = "—";
    if (task.parent) {
      const pid = typeof task.parent === "string" ? task.parent : task.parent.id;
      let name = task.parent.name;
      if (!name) {
        try { name = (await get(`/tasks/${pid}`)).name; } catch (err) { name = pid; }
      }
      parent = h("a", { href: `/tasks/${pid}`, id: "parent-link" }, name);
    }
    replace(panel,
      task.status !== "published"
        ? h("div", { class: "panel-actions" },
          h("button", { type: "button", class: "btn", id: "edit-details", onclick: () => editDetails(task, page) },
            "Edit name, comment, tags"))
        : null,
      facts([
      ["Id", mono(task.id)],
      ["Project", h("a", { href: `/projects/${task.project.id}` }, task.project.name)],
      ["Status", statusBadge(task.status)],
      ["Status message", task.status_message || "—"],
      ["Status reason", task.status_reason || "—"],
      ["Parent", parent],
      ["Type", task.type || "—"],
      ["User", task.user ? task.user.name : "—"],
      ["Created", fmtTime(task.created)],
      ["Started", fmtTime(task.started)],
      ["Completed", fmtTime(task.completed)],
      ["Last update", fmtTime(task.last_update)],
      ["Runtime", fmtDuration(taskDuration(task))],
      ["Tags", (task.tags || []).length ? task.tags.map((t) => h("span", { class: "tag" }, t)) : "—"],
      ["Comment", task.comment || "—"],
      ["Archived", task.archived ? "yes" : "no"],
    ], "info-facts"));
  },
};
