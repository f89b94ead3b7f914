// CONFIGURATION tab: hyperparameters by section and configuration objects; editing a draft.
import { get, patch, put } from "./api.js";
import { h, replace } from "./dom.js";
import { errorText, notify } from "./layout.js";
import { yamlBlock } from "./yaml.js";

const ALLOW_EDIT = "_allow_omegaconf_edit_";
const sectionOrder = (names) => names.sort((a, b) => (a === "Hydra" ? -1 : b === "Hydra" ? 1 : a.localeCompare(b)));

/** True when the task runs (or ran) its OmegaConf text as the job config. */
const omegaconfMode = (hp) => String(((hp || {}).Hydra || {})[ALLOW_EDIT]?.value ?? "").toLowerCase() === "true";
const RAN = new Set(["in_progress", "completed", "failed", "stopped", "published"]);

/** What OmegaConf mode means for this task, said plainly above its Hydra entries. */
function omegaconfNote(task) {
  const ran = RAN.has(task.status);
  return h("p", { class: "note", id: "omegaconf-mode-note", role: "note" },
    h("strong", {}, ran ? "This run used its edited OmegaConf configuration. " : "OmegaConf mode. "),
    ran ? "The job config was the OmegaConf text under Configuration objects, as it is. "
      : "When this experiment runs, the OmegaConf text under Configuration objects is the job config, as it is. ",
    "The Hydra entries below are replayed only so that Hydra composes the same defaults; their values ",
    ran ? "were not applied." : "are not applied.");
}

function viewSection(name, params, notApplied = false) {
  const entries = Object.entries(params || {}).sort(([a], [b]) => a.localeCompare(b));
  const mark = (key) => notApplied && key !== ALLOW_EDIT;
  return h("section", { class: "param-section", id: `section-${name}`, "aria-labelledby": `section-title-${name}` },
    h("h3", { id: `section-title-${name}` }, name),
    notApplied ? h("p", { class: "muted", id: "hydra-not-applied" }, "Entries marked “not applied”: their values did not decide the job config.") : null,
    entries.length
      ? h("table", { class: "grid params" },
        h("thead", {}, h("tr", {}, h("th", { scope: "col" }, "Name"), h("th", { scope: "col" }, "Value"),
          h("th", { scope: "col" }, "Type"), h("th", { scope: "col" }, "Description"))),
        h("tbody", {}, entries.map(([key, p]) => h("tr", { dataset: { name: key }, class: mark(key) ? "not-applied" : null },
          h("td", { class: "mono" }, key),
          h("td", { class: "mono value" }, p.value ?? ""),
          h("td", { class: "muted" }, p.type || ""),
          h("td", { class: "muted" }, mark(key) ? h("span", { class: "tag not-applied-tag", title: "OmegaConf mode: the OmegaConf text decided this value" }, "not applied") : null,
            p.description || "")))))
      : h("p", { class: "muted" }, "No entries."));
}

function view(panel, task, startEdit) {
  const hp = task.hyperparams || {};
  const cfg = task.configuration || {};
  const sections = sectionOrder(Object.keys(hp));
  const textRules = omegaconfMode(hp);
  replace(panel,
    task.status === "draft"
      ? h("div", { class: "panel-actions" }, h("button", { type: "button", class: "btn", id: "edit-config", onclick: startEdit }, "Edit configuration"))
      : h("p", { class: "muted" }, "Only drafts can be edited: clone this experiment to change its configuration."),
    h("h2", {}, "Hyperparameters"),
    textRules ? omegaconfNote(task) : null,
    sections.length ? sections.map((s) => viewSection(s, hp[s], textRules && s === "Hydra")) : h("p", { class: "muted" }, "No hyperparameters recorded."),
    h("h2", {}, "Configuration objects"),
    Object.keys(cfg).length
      ? Object.entries(cfg).map(([name, obj]) => h("section", { class: "config-object", id: `config-${name}` },
        h("h3", {}, name, h("span", { class: "muted type" }, obj.type || ""),
          textRules && name === "OmegaConf"
            ? h("span", { class: "tag job-config-tag", id: "omegaconf-job-config" }, RAN.has(task.status) ? "the job config this run used" : "the job config when run")
            : null),
        obj.description ? h("p", { class: "muted" }, obj.description) : null,
        yamlBlock(obj.value, { "aria-label": `${name} configuration` })))
      : h("p", { class: "muted" }, "No configuration objects recorded."));
}

/** One editable section: rows of name/value inputs; answers {el, rows(), errorSlot(name)}. */
function editSection(name, params) {
  const body = h("tbody", {});
  const rows = [];
  const addRow = (key = "", p = { value: "" }, focus = false) => {
    const flag = name === "Hydra" && key === ALLOW_EDIT;
    const nameIn = h("input", { type: "text", class: "mono", value: key, "aria-label": `${name} parameter name`,
      placeholder: "dataset.main.number", readonly: flag });
    const current = String(p.value ?? "");
    const valueIn = flag
      ? h("select", { class: "mono", "aria-label": `${name} parameter value`, id: "allow-omegaconf-edit" },
        ["False", "True"].map((v) => h("option", { value: v, selected: v.toLowerCase() === current.toLowerCase() }, v)))
      : h("input", { type: "text", class: "mono", value: current, "aria-label": `${name} parameter value`, placeholder: "value" });
    const error = h("div", { class: "field-error", role: "alert" });
    const row = { original: key, nameIn, valueIn, error, removed: false };
    const tr = h("tr", { class: key ? null : "added" },
      h("td", {}, nameIn, error), h("td", {}, valueIn), h("td", { class: "muted" }, p.type || ""),
      h("td", {}, flag ? null : h("button", { type: "button", class: "btn btn-quiet", "aria-label": `Remove ${key || "new parameter"}`,
        onclick: () => { row.removed = true; tr.remove(); } }, "Remove")));
    row.tr = tr;
    rows.push(row);
    body.append(tr);
    if (focus) nameIn.focus();
  };
  for (const [key, p] of Object.entries(params || {}).sort(([a], [b]) => a.localeCompare(b))) addRow(key, p);
  const el = h("section", { class: "param-section editing", id: `section-${name}` },
    h("h3", {}, name),
    h("table", { class: "grid params" },
      h("thead", {}, h("tr", {}, h("th", { scope: "col" }, "Name"), h("th", { scope: "col" }, "Value"),
        h("th", { scope: "col" }, "Type"), h("th", { scope: "col" }, h("span", { class: "sr-only" }, "Remove")))),
      body),
    h("button", { type: "button", class: "btn", id: `add-param-${name}`, onclick: () => addRow("", { value: "" }, true) },
      `Add ${name} parameter`));
  return { el, rows: () => rows.filter((r) => !r.removed) , removed: () => rows.filter((r) => r.removed && r.original) };
}

/** The PATCH body for one section, or an error message per row. */
function sectionChanges(name, original, ed) {
  const changes = {};
  const errors = [];
  const seen = new Map();
  for (const row of ed.rows()) {
    const key = row.nameIn.value.trim();
    const value = row.valueIn.value;
    if (!key && !value) continue;
    if (!key) { errors.push([row, "A parameter needs a name."]); continue; }
    if (seen.has(key)) { errors.push([row, `“${key}” is listed twice.`]); continue; }
    seen.set(key, row);
    const before = (original || {})[key];
    if (!before || String(before.value ?? "") !== value) changes[key] = { value };
  }
  for (const key of Object.keys(original || {})) if (!seen.has(key)) changes[key] = null;
  return { changes, errors, seen };
}

let dirty = false;
window.addEventListener("beforeunload", (ev) => {
  if (dirty && document.querySelector(".config-edit")) ev.preventDefault();
});

function edit(panel, task, page) {
  let hp = task.hyperparams || {};
  const cfg = task.configuration || {};
  const names = sectionOrder(Object.keys(hp).length ? Object.keys(hp) : ["Hydra"]);
  const editors = Object.fromEntries(names.map((n) => [n, editSection(n, hp[n])]));
  const texts = Object.fromEntries(Object.entries(cfg).map(([name, obj]) => {
    const area = h("textarea", { class: "code-editor", id: `editor-${name}`, spellcheck: "false", rows: "18",
      "aria-label": `${name} configuration text`, value: obj.value || "" });
    const hint = h("p", { class: "note", id: `editor-hint-${name}`, hidden: true }, "This text is run only when ",
      h("code", {}, ALLOW_EDIT), " is True. With False the agent applies the Hydra entries above as overrides ",
      "to the original config files, and this edit has no effect.");
    return [name, { area, hint, error: h("div", { class: "field-error", role: "alert", id: `editor-error-${name}` }), obj }];
  }));
  /** Warn when the OmegaConf text was changed but would not be used. */
  const updateHints = () => {
    const flag = document.getElementById("allow-omegaconf-edit");
    const off = !flag || flag.value !== "True";
    for (const t of Object.values(texts)) t.hint.hidden = !(off && t.obj.type === "OmegaConf" && t.area.value !== (t.obj.value || ""));
  };
  const general = h("div", { class: "form-errors", role: "alert", id: "edit-errors" });
  const saveBtn = h("button", { type: "submit", class: "btn btn-primary", id: "save-config" }, "Save");
  const form = h("form", { class: "config-edit", "aria-label": "Edit configuration" },
    h("p", { class: "muted" },
      "Hydra parameters are applied as overrides in dot notation (",
      h("code", {}, "dataset.main.number"), ", ", h("code", {}, "+new.key"), ", ", h("code", {}, "~key"),
      "). Set ", h("code", {}, "_allow_omegaconf_edit_"), " to True to run the OmegaConf text below as it is instead."),
    general,
    h("h2", {}, "Hyperparameters"), names.map((n) => editors[n].el),
    h("h2", {}, "Configuration objects"),
    Object.entries(texts).map(([name, t]) => h("section", { class: "config-object" },
      h("h3", {}, h("label", { for: `editor-${name}` }, name), h("span", { class: "muted type" }, t.obj.type || "")), t.area, t.hint, t.error)),
    h("div", { class: "panel-actions sticky" }, saveBtn,
      h("button", { type: "button", class: "btn", id: "cancel-edit", onclick: () => { dirty = false; view(panel, task, () => edit(panel, task, page)); } }, "Cancel")));

  dirty = false;
  form.addEventListener("input", () => { dirty = true; updateHints(); });
  form.addEventListener("change", updateHints);
  form.addEventListener("click", (ev) => { if (ev.target.closest("button[aria-label^='Remove']")) dirty = true; });
  form.addEventListener("submit", async (ev) => {
    ev.preventDefault();
    replace(general);
    for (const ed of Object.values(editors)) for (const r of ed.rows()) r.error.textContent = "";
    for (const t of Object.values(texts)) t.error.textContent = "";
    const body = {};
    const located = {};
    let bad = false;
    for (const n of names) {
      const { changes, errors, seen } = sectionChanges(n, hp[n], editors[n]);
      located[n] = seen;
      for (const [row, msg] of errors) { row.error.textContent = msg; bad = true; }
      if (Object.keys(changes).length) body[n] = changes;
    }
    if (bad) return;
    saveBtn.disabled = true;
    let savedParams = false;
    try {
      if (Object.keys(body).length) {
        // the answer is the full, saved section set: the baseline of any further save
        hp = await patch(`/tasks/${task.id}/hyperparams`, body);
        task.hyperparams = hp;
        savedParams = true;
      }
      for (const [name, t] of Object.entries(texts)) {
        if (t.area.value !== (t.obj.value || "")) {
          t.obj = await put(`/tasks/${task.id}/configuration/${encodeURIComponent(name)}`,
            { value: t.area.value, type: t.obj.type || "OmegaConf", description: t.obj.description || "" }) || t.obj;
          task.configuration[name] = t.obj;
        }
      }
    } catch (err) {
      saveBtn.disabled = false;
      showEditErrors(err, located, texts, general, savedParams);
      return;
    }
    dirty = false;
    const unchecked = uncheckedGroups(task, body.Hydra);
    if (unchecked.length) {
      notify(`Configuration saved. Not checked: the option of ${unchecked.join(", ")} (this run's config groups were not recorded; Hydra checks it when the task runs).`, "warn", true);
    } else notify("Configuration saved", "ok");
    page.editRequested = false;
    panel.replaceChildren();
    delete panel.dataset.status;
    await page.reload();
  });
  replace(panel, form);
}

/** Group choices saved in `changes` that the server could not check: the run recorded no
 * config groups (runtime.hydra.config_groups), so Hydra checks the option at run time. */
function uncheckedGroups(task, changes) {
  const hydra = (task.runtime || {}).hydra;
  if (!hydra || hydra.config_groups || !changes) return [];
  const choices = hydra.choices || {};
  return Object.entries(changes).filter(([key, v]) => {
    if (!v || key === ALLOW_EDIT) return false;
    const path = key.replace(/^[+~]+/, "");
    return path.includes("/") || path.includes("@") || Object.hasOwn(choices, path);
  }).map(([key]) => key);
}

/** Put each 422 detail next to the entry it names; the rest go to the top of the form. */
function showEditErrors(err, located, texts, general, savedParams) {
  const details = Array.isArray(err.details) ? err.details : [];
  const rest = [];
  for (const d of details) {
    const rowMap = located[d.section];
    const row = rowMap && rowMap.get(d.name);
    if (row) { row.error.textContent = d.message; row.nameIn.setAttribute("aria-invalid", "true"); continue; }
    if (d.section === "configuration" || texts[d.section]) {
      const t = texts[d.name] || texts[d.section] || Object.values(texts)[0];
      if (t) { t.error.textContent = d.message; continue; }
    }
    rest.push(d.field ? `${d.field}: ${d.message}` : (d.name ? `${d.section || ""} ${d.name}: ${d.message}` : d.message));
  }
  const what = savedParams ? "The hyperparameters were saved; the configuration object was not" : "Not saved";
  replace(general, h("p", {}, err.code === "invalid_edit" ? `${what}: some entries cannot apply.` : `${what}: ${errorText(err)}`),
    rest.length ? h("ul", {}, rest.map((m) => h("li", {}, m))) : null);
  const first = document.querySelector(".config-edit .field-error:not(:empty)");
  if (first) first.scrollIntoView({ block: "center" });
}

export const configurationTab = {
  id: "configuration",
  label: "CONFIGURATION",
  async render(panel, task, page) {
    if (task.hyperparams === undefined || task.configuration === undefined) {
      task.hyperparams = await get(`/tasks/${task.id}/hyperparams`);
      task.configuration = await get(`/tasks/${task.id}/configuration`);
    }
    panel.dataset.status = task.status;
    const startEdit = () => edit(panel, task, page);
    if (page.editRequested && task.status === "draft") { page.editRequested = false; startEdit(); } else view(panel, task, startEdit);
  },
  /** False when the user keeps unsaved edits (asked before leaving the tab). */
  canLeave() {
    return !(dirty && document.querySelector(".config-edit")) || window.confirm("Discard the unsaved configuration changes?");
  },
  stop() { dirty = false; },
  async refresh(panel, task, page) {
    // while a task runs its configuration does not change: redraw only when the status does
    if (!panel.querySelector(".config-edit") && panel.dataset.status !== task.status) await this.render(panel, task, page);
  },
};
