// The queues a task can be enqueued to, as [value, text] options for a select.
import { get } from "./api.js";

export async function queueOptions() {
  const answer = await get("/queues", { limit: 1000 });
  const items = answer.items.length ? answer.items : [{ name: "default", length: 0 }];
  return items.map((q) => [q.name, `${q.name} (${q.length} waiting)`]);
}
