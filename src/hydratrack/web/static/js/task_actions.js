// The action buttons of the experiment page; which ones show depends on the task's status.
import { del, post } from "./api.js";
import { h } from "./dom.js";
import { confirmDialog, dialog, errorText, notify } from "./layout.js";
import { queueOptions } from "./queue_picker.js";

const FINAL = new Set(["completed", "failed", "stopped"]);

/** Run an API action; show its error, or reload the page's task with the answer. */
async function act(page, what, call) {
  if (!page.confirmDiscard()) return;
  try {
    const answer = await call();
    notify(what, "ok");
    await page.reload(answer && answer.id === page.task.id ? answer : undefined);
  } catch (err) {
    if (err.status !== 401) notify(`${what} failed: ${errorText(err)}`, "error");
  }
}

export function actionBar(task, page) {
  const s = task.status;
  const id = task.id;
  const button = (label, onclick, opts = {}) =>
    h("button", { type: "button", class: `btn ${opts.cls || ""}`, id: `action-${label.toLowerCase()}`, onclick }, label);
  const buttons = [
    button("Clone", async () => {
      const values = await dialog({ title: "Clone experiment", submit: "Clone",
        message: "The clone is a new draft with the same script, hyperparameters and configuration.",
        fields: [{ name: "name", label: "Name of the clone", value: `${task.name} (clone)`, required: true }],
        onSubmit: async (v) => {
          const clone = await post(`/tasks/${id}/clone`, { name: v.name.trim() });
          location.assign(`/tasks/${clone.id}#configuration`);
        } });
      return values;
    }, { cls: "btn-primary" }),
  ];
  if (s === "draft") {
    buttons.push(button("Edit", () => {
      if (document.querySelector(".config-edit")) return; // already editing
      page.editRequested = true;
      page.show("configuration");
    }));
    buttons.push(button("Enqueue", async () => {
      const values = await dialog({ title: "Enqueue experiment", submit: "Enqueue",
        fields: [{ name: "queue", label: "Queue", options: await queueOptions() }] });
      if (values) await act(page, `Enqueued in ${values.queue}`, () => post(`/tasks/${id}/enqueue`, { queue: values.queue }));
    }));
  }
  if (s === "queued") {
    buttons.push(button("Dequeue", () => act(page, "Dequeued", () => post(`/tasks/${id}/dequeue`))));
  }
  if (s === "queued" || s === "in_progress") {
    buttons.push(button("Abort", async () => {
      const values = await dialog({ title: "Abort experiment", submit: "Abort", danger: true,
        message: s === "in_progress" ? "The agent running it stops the process." : "It leaves the queue and is marked stopped.",
        fields: [{ name: "reason", label: "Reason (optional)", value: "" }] });
      if (values) await act(page, "Abort requested", () => post(`/tasks/${id}/abort`, { reason: values.reason || null }));
    }, { cls: "btn-danger" }));
  }
  if (FINAL.has(s)) {
    buttons.push(button("Reset", async () => {
      if (await confirmDialog("Reset experiment?", "It becomes a draft again; its console, scalars and artifacts are deleted.", "Reset")) {
        await act(page, "Reset to draft", () => post(`/tasks/${id}/reset`));
      }
    }));
    buttons.push(button("Publish", async () => {
      if (await confirmDialog("Publish experiment?", "A published experiment is locked: it cannot be edited or reset.", "Publish")) {
        await act(page, "Published", () => post(`/tasks/${id}/publish`));
      }
    }));
  }
  if (s !== "in_progress") {
    const label = task.archived ? "Unarchive" : "Archive";
    buttons.push(button(label, () => act(page, `${label}d`, () => post(`/tasks/${id}/archive`, { archived: !task.archived }))));
  }
  if (s !== "queued" && s !== "in_progress") {
    buttons.push(button("Delete", async () => {
      if (!await confirmDialog(`Delete “${task.name}”?`, "The experiment and all its outputs are deleted. This cannot be undone.")) return;
      try {
        await del(`/tasks/${id}`);
        location.assign(`/projects/${task.project.id}`);
      } catch (err) {
        notify(`Delete failed: ${errorText(err)}`, "error");
      }
    }, { cls: "btn-danger" }));
  }
  return h("div", { class: "actions", role: "toolbar", "aria-label": "Experiment actions" }, buttons);
}
