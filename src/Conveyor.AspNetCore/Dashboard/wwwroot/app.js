// Entry point: the API key form, the hash router (#/overview, #/jobs?…, #/jobs/{id}, #/batches?…, #/batches/{id},
// #/workflows?…, #/workflows/{id}, #/schedules) and page switching.
import { apiKey, setApiKey } from "./api.js";
import { replaceChildren } from "./dom.js";
import { callerRole, clearNotice, notify } from "./ui.js";
import { renderOverview } from "./overview.js";
import { renderJobs } from "./jobs.js";
import { renderJob } from "./job.js";
import { renderSchedules } from "./schedules.js";
import { renderBatch } from "./batch.js";
import { renderBatches } from "./batches.js";

const main = document.getElementById("main");
let current = null;

function route() {
  const hash = location.hash.replace(/^#/, "") || "/overview";
  const [path, search = ""] = hash.split("?");
  const params = new URLSearchParams(search);
  const parts = path.split("/").filter(Boolean);
  if (parts[0] === "jobs" && parts.length > 1) return { name: "jobs", page: renderJob, args: [decodeURIComponent(parts.slice(1).join("/")), params.get("tenant")] };
  if (parts[0] === "jobs") return { name: "jobs", page: renderJobs, args: [params] };
  if ((parts[0] === "batches" || parts[0] === "workflows") && parts.length > 1) return { name: "batches", page: renderBatch, args: [decodeURIComponent(parts[1]), params.get("tenant")] };
  if (parts[0] === "batches" || parts[0] === "workflows") return { name: parts[0], page: renderBatches, args: [params, parts[0]] };
  if (parts[0] === "schedules") return { name: "schedules", page: renderSchedules, args: [params] };
  return { name: "overview", page: renderOverview, args: [] };
}

async function show(focus) {
  if (current && current.stop) current.stop();
  const { name, page, args } = route();
  for (const link of document.querySelectorAll("nav a")) {
    if (link.dataset.nav === name) link.setAttribute("aria-current", "page");
    else link.removeAttribute("aria-current");
  }
  const view = document.createElement("div");
  replaceChildren(main, view);
  const role = await callerRole();
  try {
    current = await page(view, role, ...args);
  } catch (e) {
    notify(e.message, true);
  }
  const heading = view.querySelector("h1");
  if (focus && heading) {
    heading.tabIndex = -1;
    heading.focus();
  }
  document.title = (heading ? heading.textContent + " · " : "") + "Conveyor dashboard";
  document.body.dataset.ready = name;
}

window.addEventListener("hashchange", () => { clearNotice(); show(true); });

// The router reads the hash, so following "#main" would open the Overview and drop the page's filters: the skip link
// moves the focus to the page's content itself and leaves the address as it is.
document.querySelector("a.skip").addEventListener("click", (event) => {
  event.preventDefault();
  main.focus();
});

const keyInput = document.getElementById("key");
keyInput.value = apiKey();
document.getElementById("key-form").addEventListener("submit", async (event) => {
  event.preventDefault();
  setApiKey(keyInput.value.trim());
  clearNotice();
  await callerRole(true);
  show(false);
});
document.getElementById("forget-key").addEventListener("click", async () => {
  keyInput.value = "";
  setApiKey("");
  await callerRole(true);
  show(false);
});

show(false);
