// "/queues": queue lengths and lost-worker policies, and workers with their current task
// and last heartbeat (workers gone longer than the server's --worker-gone-seconds are not listed).
import { get } from "../api.js";
import { h, replace } from "../dom.js";
import { fmtAgo, fmtTime } from "../format.js";
import { pageFrame, renderTopbar, showError } from "../layout.js";

const REFRESH_MS = 5000;

// What happens to a task of the queue whose worker stops sending heartbeats.
function lostWorker(q) {
  return q.lost_worker_policy === "requeue" ? `requeue (up to ${q.lost_worker_retries} times)` : "fail";
}

export async function render() {
  await renderTopbar("queues");
  const body = pageFrame("Queues and workers");
  const queues = h("div", {});
  const workers = h("div", {});
  replace(body, h("h2", {}, "Queues"), queues, h("h2", {}, "Workers"), workers);

  async function load() {
    try {
      const [q, w] = await Promise.all([get("/queues", { limit: 1000 }), get("/workers", { limit: 1000 })]);
      replace(queues, q.items.length
        ? h("table", { class: "grid", id: "queues-table" },
          h("thead", {}, h("tr", {}, h("th", {}, "Queue"), h("th", { class: "num" }, "Waiting"),
            h("th", { title: "What happens to a task whose worker stops sending heartbeats" }, "Worker lost"),
            h("th", {}, "Created"))),
          h("tbody", {}, q.items.map((x) => h("tr", {}, h("td", { class: "strong" }, x.name),
            h("td", { class: "num" }, String(x.length)), h("td", {}, lostWorker(x)),
            h("td", {}, fmtTime(x.created))))))
        : h("p", { class: "muted" }, "No queues."));
      replace(workers, w.items.length
        ? h("table", { class: "grid", id: "workers-table" },
          h("thead", {}, h("tr", {}, h("th", {}, "Worker"), h("th", {}, "Queues"), h("th", {}, "Current task"),
            h("th", {}, "Last heartbeat"), h("th", {}, "Registered"))),
          h("tbody", {}, w.items.map((x) => h("tr", {}, h("td", { class: "strong" }, x.name),
            h("td", {}, (x.queues || []).map((n) => h("span", { class: "tag" }, n))),
            h("td", {}, x.task ? h("a", { href: `/tasks/${x.task.id}` }, x.task.name) : h("span", { class: "muted" }, "idle")),
            h("td", { title: fmtTime(x.last_heartbeat) }, fmtAgo(x.last_heartbeat)),
            h("td", {}, fmtTime(x.registered))))))
        : h("p", { class: "muted" }, "No workers. Start one with ", h("code", {}, "hydratrack agent --queue default"), "."));
    } catch (err) {
      if (err.status !== 401) showError(queues, err, "Could not load queues");
      return;
    }
    setTimeout(() => (document.hidden ? setTimeout(load, REFRESH_MS) : load()), REFRESH_MS);
  }
  await load();
}
