import { h, replace } from "../dom.js";
import { main, renderTopbar } from "../layout.js";

export async function render(id) {
  await renderTopbar("");
  replace(main(), h("div", { class: "empty" },
    h("h1", {}, document.title.replace(" · hydratrack", "")),
    h("p", {}, `"${id}" is not a valid id.`),
    h("p", {}, h("a", { href: "/" }, "Back to projects"))));
}
