// Entry point: load the module of the page named by <body data-page>.
import { showError, main } from "./layout.js";

const PAGES = new Set(["login", "projects", "experiments", "task", "compare", "queues", "admin", "audit", "notfound"]);

async function start() {
  const page = document.body.dataset.page;
  const id = document.body.dataset.id || "";
  if (!PAGES.has(page)) return;
  try {
    const module = await import(`./pages/${page}.js`);
    await module.render(id);
  } catch (err) {
    if (err && err.status === 401) return; // on its way to /login
    console.error(err);
    showError(main(), err);
  }
}

start();
