// Jobs: a list per state with filters, cursor paging, search by id, and bulk actions on the selection or the filter.
import { call, query, settings } from "./api.js";
import { append, badge, cut, h, jobHref, number, replaceChildren, statuses, time } from "./dom.js";
import { confirmAction, focusIn, notify, refocus } from "./ui.js";
import { runBulk } from "./bulk.js";

const filterNames = ["status", "queue", "type", "tenant", "error", "created_after", "created_before"];

export async function renderJobs(view, role, params) {
  const filter = Object.fromEntries(filterNames.map((n) => [n, params.get(n) || ""]));
  const sizes = [25, 50, 100, 200, 500, 1000].filter((n) => n <= settings.maxPageSize);
  const limit = Number(params.get("limit")) || Math.min(50, settings.maxPageSize);
  const page = { cursors: [null], index: 0, next: null, jobs: [] };
  const selected = new Set();

  const title = filter.status ? `${badgeText(filter.status)} jobs` : "Jobs";
  const list = h("div", { id: "job-list" });
  const pager = h("div", { class: "toolbar", role: "navigation", "aria-label": "Pages" });
  const bulk = settings.readOnly ? null : h("div", { class: "bulk panel", "aria-labelledby": "bulk-title" });
  append(view,
    h("h1", {}, title),
    searchForm(role, filter),
    stateTabs(filter, limit),
    filterForm(filter, role, limit, sizes),
    bulk,
    pager,
    list);

  /** Reads the page again; the focused control keeps the focus (or its replacement, as ui.js keepFocus). */
  async function load(before = focusIn(view)) {
    list.setAttribute("aria-busy", "true");
    try {
      const answer = await listJobs({ ...filter, tenant: tenantScope(role, filter), limit, cursor: page.cursors[page.index] });
      page.jobs = answer.jobs;
      page.next = answer.next_cursor;
      selected.clear();
      renderList();
      renderPager();
      renderBulk();
    } catch (e) {
      replaceChildren(list, h("p", { class: "error-box panel", role: "alert" }, e.message));
    } finally {
      list.removeAttribute("aria-busy");
    }
    // A bulk button the emptied selection disabled hands the focus to the bulk panel around it.
    refocus(view, before, () => (bulk && before.key && before.key.startsWith("bulk:") ? bulk : null));
  }

  function renderList() {
    if (page.jobs.length === 0) {
      replaceChildren(list, h("p", { class: "panel" }, page.index === 0 ? "No jobs match." : "No more jobs."));
      return;
    }
    const showTenant = page.jobs.some((j) => j.tenant);
    const all = settings.readOnly ? null : h("input", {
      type: "checkbox", id: "select-page", "aria-label": "Select every job on this page", "data-focus-key": "select-page",
      // The rows' boxes are ticked where they are: drawing the table again would drop the focus from this box.
      onchange: (e) => {
        for (const j of page.jobs) e.target.checked ? selected.add(j.job_id) : selected.delete(j.job_id);
        for (const box of list.querySelectorAll("input[data-select]")) box.checked = e.target.checked;
        renderBulk();
      },
    });
    if (all) all.checked = page.jobs.every((j) => selected.has(j.job_id));
    replaceChildren(list, h("div", { class: "scroll" }, h("table", { "data-page": page.index + 1 },
      h("caption", { class: "sr-only" }, `${title}, page ${page.index + 1}`),
      h("thead", {}, h("tr", {},
        settings.readOnly ? null : h("th", { scope: "col" }, all),
        h("th", { scope: "col" }, "job"), h("th", { scope: "col" }, "type"), h("th", { scope: "col" }, "queue"),
        showTenant ? h("th", { scope: "col" }, "tenant") : null,
        h("th", { scope: "col" }, "status"), h("th", { scope: "col", class: "hide-narrow" }, "progress"),
        h("th", { scope: "col", class: "num" }, "attempts"), h("th", { scope: "col" }, "created"),
        h("th", { scope: "col" }, "last error / why it waits"))),
      h("tbody", {}, page.jobs.map((j) => jobRow(j, showTenant))))));
  }

  function jobRow(j, showTenant) {
    const lastError = j.errors && j.errors.length ? j.errors[j.errors.length - 1] : null;
    const why = j.snoozed_reason ? h("span", { class: "muted" }, "waiting: " + j.snoozed_reason)
      : lastError ? h("div", { class: "err", title: lastError.message }, (lastError.exception_type ? lastError.exception_type + ": " : "") + lastError.message) : "";
    const box = settings.readOnly ? null : h("input", {
      type: "checkbox", "aria-label": "Select job " + j.job_id, "data-select": j.job_id, "data-focus-key": "select:" + j.job_id,
      onchange: (e) => {
        e.target.checked ? selected.add(j.job_id) : selected.delete(j.job_id);
        const all = list.querySelector("#select-page");
        if (all) all.checked = page.jobs.every((job) => selected.has(job.job_id));
        renderBulk();
      },
    });
    if (box) box.checked = selected.has(j.job_id);
    return h("tr", { "data-job-id": j.job_id, "data-status": j.status },
      box ? h("td", {}, box) : null,
      h("td", {}, cut(j.job_id, { class: "mono", href: jobLink(j, role) }, "a")),
      h("td", {}, cut(j.type)),
      h("td", {}, cut(j.queue)),
      showTenant ? h("td", {}, cut(j.tenant || "")) : null,
      h("td", {}, badge(j.status)),
      h("td", { class: "hide-narrow" }, h("progress", { class: "job", max: 100, value: j.progress, "aria-label": `progress ${j.progress}%` })),
      h("td", { class: "num" }, `${j.attempts} / ${j.max_retry + 1}`),
      h("td", { class: "nowrap" }, time(j.created_at)),
      h("td", {}, why));
  }

  function renderPager() {
    const prev = h("button", { type: "button", "data-page": "previous", disabled: page.index === 0 }, "← Previous");
    const next = h("button", { type: "button", "data-page": "next", disabled: !page.next }, "Next →");
    prev.addEventListener("click", () => { page.index--; load(null).then(() => pager.querySelector('[data-page="previous"]').focus()); });
    next.addEventListener("click", () => {
      page.cursors[page.index + 1] = page.next;
      page.index++;
      load(null).then(() => (page.next ? pager.querySelector('[data-page="next"]') : pager.querySelector('[data-page="previous"]')).focus());
    });
    const first = page.index * limit + 1;
    replaceChildren(pager, prev, next,
      h("span", { id: "page-info", "aria-live": "polite" },
        page.jobs.length ? `Page ${page.index + 1}: jobs ${number.format(first)}–${number.format(first + page.jobs.length - 1)}${page.next ? "" : " (last page)"}` : ""),
      h("span", { class: "spacer" }),
      h("button", { type: "button", "data-focus-key": "refresh", onclick: () => load() }, "Refresh"));
  }

  function renderBulk() {
    if (!bulk || bulk.dataset.running) return;
    const ids = [...selected];
    const describe = describeFilter(filter);
    const act = (action, label, scope) => h("button", {
      type: "button", class: action === "delete" ? "danger" : null, "data-bulk": `${action}-${scope}`, "data-focus-key": `bulk:${action}-${scope}`,
      disabled: scope === "selection" && ids.length === 0,
      onclick: async () => {
        const verb = action[0].toUpperCase() + action.slice(1);
        const jobs = `${ids.length} job${ids.length === 1 ? "" : "s"}`;
        const what = scope === "selection" ? `${ids.length} selected job${ids.length === 1 ? "" : "s"}` : `every job matching ${describe}`;
        // The confirming button says what it does, and the other is not "Cancel": on Cancel's question that would
        // leave two buttons named Cancel.
        if (!(await confirmAction(`${verb} ${what}?`, scope === "selection" ? `${verb} ${jobs}` : `${verb} every matching job`, "Back"))) return;
        // The button is replaced by the progress line while the batches run; the focus comes back to it after.
        const before = focusIn(view);
        bulk.dataset.running = "true";
        try {
          const tenant = tenantScope(role, filter);
          const summary = await runBulk(bulk, action, scope === "selection" ? { ids, tenant } : { filter: nonEmpty({ ...filter, tenant }) });
          notify(summary);
        } catch (e) {
          notify(e.message, true);
        } finally {
          delete bulk.dataset.running;
          await load(before);
        }
      },
    }, label);
    replaceChildren(bulk,
      h("h2", { id: "bulk-title", class: "sr-only" }, "Bulk actions"),
      h("div", { class: "toolbar" },
        h("strong", {}, `Selected: ${ids.length}`),
        act("retry", "Retry", "selection"), act("cancel", "Cancel", "selection"), act("delete", "Delete", "selection"),
        h("span", { class: "spacer" }),
        h("span", {}, "All matching the filter:"),
        act("retry", "Retry all", "filter"), act("cancel", "Cancel all", "filter"), act("delete", "Delete all", "filter")));
  }

  await load();
  return null;
}

/**
 * The tenant a listing asks for: what the filter names, or every tenant ("*") for an operator key; nothing for a
 * tenant key (its own) or a server that lists one tenant only.
 */
let everyTenant = true;
function tenantScope(role, filter) {
  if (filter.tenant) return filter.tenant;
  return role === "operator" && everyTenant ? "*" : undefined;
}

/** GET /jobs; a server without the tenant parameter lists the key's own tenant, and is asked again without it. */
async function listJobs(values) {
  try {
    return await call("GET", "/jobs" + query(values));
  } catch (e) {
    if (e.status === 400 && values.tenant === "*" && e.problem && e.problem.errors && e.problem.errors.tenant) {
      everyTenant = false;
      return await call("GET", "/jobs" + query({ ...values, tenant: undefined }));
    }
    throw e;
  }
}

/** The detail page of a job; an operator reads another tenant's job by naming it. */
export function jobLink(job, role) {
  return jobHref(job.job_id, role === "operator" ? job.tenant : null);
}

function nonEmpty(values) {
  return Object.fromEntries(Object.entries(values).filter(([, v]) => v !== undefined && v !== null && v !== ""));
}

function badgeText(status) { return status.replace("_", " ").toLowerCase().replace(/^./, (c) => c.toUpperCase()); }

function describeFilter(filter) {
  const parts = Object.entries(filter).filter(([, v]) => v).map(([k, v]) => `${k.replace("_", " ")} ${v}`);
  return parts.length ? parts.join(", ") : "no filter (all jobs)";
}

function searchForm(role, filter) {
  const input = h("input", { id: "job-search", type: "search", placeholder: "job_…", spellcheck: "false", autocomplete: "off" });
  return h("form", {
    class: "search", role: "search",
    onsubmit: (e) => {
      e.preventDefault();
      const id = input.value.trim();
      if (!id) { notify("Type a job id to open it.", true); return; }
      // An operator finds another tenant's job by naming its tenant in the filter.
      location.hash = jobLink({ job_id: id, tenant: filter.tenant }, role);
    },
  }, h("label", { for: "job-search" }, "Find a job by id"), input, h("button", { type: "submit" }, "Open"));
}

function stateTabs(filter, limit) {
  const link = (status, label) => {
    const params = new URLSearchParams(Object.entries({ ...filter, status, limit: String(limit) }).filter(([, v]) => v));
    return h("a", { href: "#/jobs?" + params, "aria-current": filter.status === status ? "page" : null, "data-tab": status || "all" }, label);
  };
  return h("nav", { class: "tabs", "aria-label": "Jobs by state" },
    link("", "All"), statuses.map((s) => link(s, badgeText(s))));
}

function filterForm(filter, role, limit, sizes) {
  const field = (name, label, props = {}) => h("div", {},
    h("label", { for: "f-" + name }, label),
    h("input", { id: "f-" + name, name, value: filter[name], autocomplete: "off", spellcheck: "false", ...props }));
  const date = (name, label) => h("div", {},
    h("label", { for: "f-" + name }, label),
    h("input", { id: "f-" + name, name, type: "datetime-local", step: 1, value: toLocalInput(filter[name]) }));
  const form = h("form", { class: "filters panel", "aria-label": "Filter jobs" },
    h("input", { type: "hidden", name: "status", value: filter.status }),
    field("queue", "Queue"),
    field("type", "Type", { placeholder: "domain:action" }),
    role === "operator" ? field("tenant", "Tenant", { placeholder: "every tenant" }) : null,
    field("error", "Error message contains"),
    date("created_after", "Created after"),
    date("created_before", "Created before"),
    h("div", {}, h("label", { for: "f-limit" }, "Per page"),
      h("select", { id: "f-limit", name: "limit" }, sizes.map((n) => h("option", { value: n, selected: n === limit }, n)))),
    h("div", { class: "buttons" },
      h("button", { type: "submit", class: "primary" }, "Apply filters"),
      h("button", { type: "button", onclick: () => { location.hash = "#/jobs" + (filter.status ? "?status=" + filter.status : ""); } }, "Clear")));
  form.addEventListener("submit", (e) => {
    e.preventDefault();
    const data = new FormData(form);
    const params = new URLSearchParams();
    for (const [name, value] of data) {
      const text = String(value).trim();
      if (!text) continue;
      params.set(name, name.startsWith("created_") ? new Date(text).toISOString() : text);
    }
    const target = "#/jobs?" + params;
    if (location.hash === target) window.dispatchEvent(new HashChangeEvent("hashchange"));
    else location.hash = target;
  });
  return form;
}

/** An RFC 3339 instant as the value of a datetime-local input (the browser's time zone). */
function toLocalInput(value) {
  if (!value) return "";
  const date = new Date(value);
  if (Number.isNaN(date.getTime())) return "";
  const pad = (n) => String(n).padStart(2, "0");
  return `${date.getFullYear()}-${pad(date.getMonth() + 1)}-${pad(date.getDate())}T${pad(date.getHours())}:${pad(date.getMinutes())}:${pad(date.getSeconds())}`;
}
