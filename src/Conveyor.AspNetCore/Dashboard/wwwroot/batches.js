// Batches and workflows, listed: the tenant's (an operator's: every tenant's, or the one named) newest first, by status,
// a page at a time (GET /batches, GET /workflows), each linking to its own page in its tenant. The Batches page keeps
// the entry by id above its list.
import { call, query, settings } from "./api.js";
import { append, badge, batchHref, cut, h, number, replaceChildren, time, workflowHref } from "./dom.js";
import { renderBatchLookup } from "./batch.js";
import { focusIn, refocus } from "./ui.js";

const batchStatuses = ["RUNNING", "SUCCESS", "COMPLETED", "CANCELLED"];

/** #/batches?status=&tenant= and #/workflows?status=&tenant=; kind: "batches" or "workflows". */
export async function renderBatches(view, role, params, kind) {
  const workflows = kind === "workflows";
  const filter = { status: params.get("status") || "", tenant: params.get("tenant") || "" };
  const limit = Math.min(Number(params.get("limit")) || 50, settings.maxPageSize);
  const page = { cursors: [null], index: 0, next: null, items: [] };
  const noun = workflows ? "workflows" : "batches";
  // An operator lists every tenant's unless the filter names one, as on the Jobs page.
  const everyTenant = role === "operator" && !filter.tenant;
  const list = h("div", { id: "batch-list" });
  const pager = h("div", { class: "toolbar", role: "navigation", "aria-label": "Pages" });

  if (workflows) append(view, h("h1", {}, "Workflows"));
  else await renderBatchLookup(view);
  append(view,
    h("h2", {}, `${workflows ? "Workflows" : "Batches and workflows"} of ${filter.tenant ? "tenant " + filter.tenant : everyTenant ? "every tenant" : "this key's tenant"}`),
    statusTabs(kind, filter, limit),
    role === "operator" ? tenantForm(kind, filter) : null,
    pager,
    list);

  async function load(before = focusIn(view)) {
    list.setAttribute("aria-busy", "true");
    try {
      const answer = await call("GET", "/" + kind + query({ ...filter, tenant: everyTenant ? "*" : filter.tenant, limit, cursor: page.cursors[page.index] }));
      page.items = workflows ? answer.workflows.map((w) => ({ ...w.batch, name: w.name, steps: w.steps })) : answer.batches;
      page.next = answer.next_cursor;
      renderList();
      renderPager();
    } catch (e) {
      replaceChildren(list, h("p", { class: "error-box panel", role: "alert" }, e.message));
    } finally {
      list.removeAttribute("aria-busy");
    }
    refocus(view, before);
  }

  function renderList() {
    if (page.items.length === 0) {
      replaceChildren(list, h("p", { class: "panel" }, page.index === 0 ? `No ${noun} match.` : `No more ${noun}.`));
      return;
    }
    replaceChildren(list, h("div", { class: "scroll" }, h("table", { "data-page": page.index + 1 },
      h("caption", { class: "sr-only" }, `${workflows ? "Workflows" : "Batches"}, page ${page.index + 1}`),
      h("thead", {}, h("tr", {},
        h("th", { scope: "col" }, workflows ? "workflow" : "batch"),
        everyTenant ? h("th", { scope: "col" }, "tenant") : null,
        h("th", { scope: "col" }, "name"),
        h("th", { scope: "col" }, "status"), h("th", { scope: "col", class: "num" }, workflows ? "steps" : "jobs"),
        h("th", { scope: "col", class: "hide-narrow" }, "progress"), h("th", { scope: "col", class: "num" }, "failed"),
        h("th", { scope: "col" }, "created"), h("th", { scope: "col" }, "finished"))),
      h("tbody", {}, page.items.map(row)))));
  }

  function row(b) {
    // An operator may be reading another tenant's: the link keeps the tenant, as a job's does.
    const tenant = role === "operator" ? b.tenant : null;
    const href = b.is_workflow ? workflowHref(b.batch_id, tenant) : batchHref(b.batch_id, tenant);
    return h("tr", { "data-batch-id": b.batch_id, "data-status": b.status },
      h("td", {}, cut(b.batch_id, { class: "mono", href }, "a")),
      everyTenant ? h("td", {}, cut(b.tenant)) : null,
      h("td", {}, b.workflow_name ? cut(b.workflow_name) : b.is_workflow ? "" : h("span", { class: "muted" }, "batch")),
      h("td", {}, badge(b.status)),
      h("td", { class: "num" }, number.format(workflows ? b.steps : b.total)),
      h("td", { class: "hide-narrow" }, h("progress", { class: "job", max: 100, value: b.progress, "aria-label": `progress ${b.progress}%` })),
      h("td", { class: "num" }, number.format(b.failed)),
      h("td", { class: "nowrap" }, time(b.created_at)),
      h("td", { class: "nowrap" }, time(b.finished_at)));
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
        page.items.length ? `Page ${page.index + 1}: ${noun} ${number.format(first)}–${number.format(first + page.items.length - 1)}${page.next ? "" : " (last page)"}` : ""),
      h("span", { class: "spacer" }),
      h("button", { type: "button", "data-focus-key": "refresh", onclick: () => load() }, "Refresh"));
  }

  await load();
  return null;
}

function statusTabs(kind, filter, limit) {
  const link = (status, label) => {
    const params = new URLSearchParams(Object.entries({ status, tenant: filter.tenant, limit: limit === 50 ? "" : String(limit) }).filter(([, v]) => v));
    const text = params.toString();
    return h("a", { href: `#/${kind}${text ? "?" + text : ""}`, "aria-current": filter.status === status ? "page" : null, "data-tab": status || "all" }, label);
  };
  return h("nav", { class: "tabs", "aria-label": `${kind === "workflows" ? "Workflows" : "Batches"} by status` },
    link("", "All"), batchStatuses.map((s) => link(s, s.charAt(0) + s.slice(1).toLowerCase())));
}

/** An operator's key lists every tenant's, or the one it names here. */
function tenantForm(kind, filter) {
  const input = h("input", { id: "list-tenant", name: "tenant", size: 16, value: filter.tenant, spellcheck: "false", autocomplete: "off", placeholder: "every tenant" });
  const form = h("form", { class: "toolbar", "aria-label": "Tenant", autocomplete: "off" },
    h("label", { for: "list-tenant" }, "Tenant"), input, h("button", { type: "submit", "data-action": "list-tenant" }, "List"));
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    const params = new URLSearchParams(Object.entries({ status: filter.status, tenant: input.value.trim() }).filter(([, v]) => v));
    const text = params.toString();
    location.hash = `#/${kind}${text ? "?" + text : ""}`;
  });
  return form;
}
