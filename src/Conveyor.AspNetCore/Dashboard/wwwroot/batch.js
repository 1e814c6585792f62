// Batches and workflows: open one by id; a batch's state, counts, progress and members; a workflow's steps with their
// state and dependencies, and the jobs added to it while it ran, each linking to its job; cancel while it runs.
// Everything comes from the Jobs API (GET /batches/{id}, GET /workflows/{id}, GET /jobs?batch_id=, POST /batches/{id}/cancel).
import { call, query, settings } from "./api.js";
import { append, badge, batchHref, cut, h, jobHref, number, replaceChildren, time } from "./dom.js";
import { actionButton, keepFocus, passing, showOutage } from "./ui.js";

const idPattern = /^batch_[0-9a-f]{32}$/;

/** #/batches: the entry by id (a batch's or a workflow's; a job's page links here too). */
export async function renderBatchLookup(view) {
  const input = h("input", { id: "batch-id", name: "batch-id", size: 40, spellcheck: "false", placeholder: "batch_…", autocomplete: "off" });
  const message = h("p", { class: "muted", id: "batch-id-help" }, "A batch's or workflow's id: 'batch_' and 32 lowercase hex digits, as POST /batches or POST /workflows answered it.");
  const tenant = h("input", { id: "batch-tenant", name: "batch-tenant", size: 16, spellcheck: "false", placeholder: "this key's" });
  const form = h("form", { class: "toolbar", autocomplete: "off" },
    h("label", { for: "batch-id" }, "Id"), input,
    h("label", { for: "batch-tenant" }, "Tenant"), tenant,
    h("button", { type: "submit", class: "primary" }, "Open"));
  input.setAttribute("aria-describedby", "batch-id-help");
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    const id = input.value.trim();
    if (!idPattern.test(id)) {
      message.className = "error-text";
      message.setAttribute("role", "alert");
      message.textContent = `'${id}' is not a batch or workflow id: 'batch_' and 32 lowercase hex digits.`;
      input.focus();
      return;
    }
    location.hash = batchHref(id, tenant.value.trim());
  });
  append(view, h("h1", {}, "Batches and workflows"), h("section", { class: "panel" }, form, message));
  return null;
}

/** #/batches/{id} and #/workflows/{id}: one page; a workflow's shows its steps, a plain batch's its members. */
export async function renderBatch(view, role, id, tenant) {
  let stopped = false;
  let timer = null;
  const scope = tenant ? "?tenant=" + encodeURIComponent(tenant) : "";
  const title = h("h1", {}, "Batch ", h("span", { class: "mono" }, id));
  const body = h("div", {});
  append(view, h("p", {}, h("a", { href: "#/batches" }, "← Batches")), title, body);
  const members = { jobs: [], cursor: null, loaded: false };
  let last = "";
  // Each reload starts a new generation; a load still reading for an older one (the 2-second follow-up in flight when
  // Cancel's reload starts) drops what it read, so that it neither adds its members to the new list nor draws the
  // batch as it was before.
  let generation = 0;

  async function load() {
    const mine = generation;
    let batch, workflow = null;
    try {
      batch = await call("GET", "/batches/" + encodeURIComponent(id) + scope);
      if (batch.is_workflow) workflow = await call("GET", "/workflows/" + encodeURIComponent(id) + scope);
      else if (!members.loaded) await loadMembers(mine);
    } catch (e) {
      if (stopped || mine !== generation) return;
      if (!passing(e)) {
        replaceChildren(body, h("p", { class: "error-box panel", role: "alert" },
          e.status === 404 ? `No batch or workflow ${id} for this key (it may have expired, or belong to another tenant).`
            : e.status === 400 ? `'${id}' is not a batch or workflow id: 'batch_' and 32 lowercase hex digits.` : e.message));
        return;
      }
      // A store that went away comes back: the batch stays drawn under the reason, and is read again.
      showOutage(body, e.message);
      clearTimeout(timer);
      if (!stopped) timer = setTimeout(reload, 2000);
      return;
    }
    if (stopped || mine !== generation) return;
    showOutage(body, null);
    const json = JSON.stringify([batch, workflow, members.jobs.length]);
    if (json !== last) {
      last = json;
      replaceChildren(title, workflow ? "Workflow " : "Batch ", workflow && workflow.name ? workflow.name + " " : "", h("span", { class: "mono" }, id));
      document.title = title.textContent + " · Conveyor dashboard";
      // Cancel goes with the running state it needs: the focus goes to the heading, above the new status.
      keepFocus(body, () => replaceChildren(body, ...detail(batch, workflow)), () => title);
    }
    clearTimeout(timer);
    // While the batch runs, follow it (a plain batch's members are read again too).
    if (batch.status === "RUNNING" && !stopped) timer = setTimeout(reload, 2000);
  }

  /** Reads the batch again, its members from the first page. */
  async function reload() {
    generation++;
    members.loaded = false;
    members.jobs = [];
    members.cursor = null;
    await load();
  }

  async function loadMembers(mine = generation) {
    const page = await call("GET", "/jobs" + query({ batch_id: id, tenant, limit: Math.min(100, settings.maxPageSize), cursor: members.cursor }));
    if (mine !== generation) return;
    members.jobs.push(...page.jobs);
    members.cursor = page.next_cursor;
    members.loaded = true;
  }

  function detail(batch, workflow) {
    const actions = batch.status !== "RUNNING" ? null : h("div", { class: "toolbar", role: "group", "aria-label": "Actions" },
      actionButton("Cancel", async () => {
        await call("POST", "/batches/" + encodeURIComponent(id) + "/cancel" + scope);
        return `${workflow ? "Workflow" : "Batch"} ${id} cancelled: its jobs that had not started are cancelled, running ones asked to stop.`;
      }, {
        done: reload, danger: true, key: `batch:${id}:cancel`, confirmLabel: `Cancel ${workflow ? "workflow" : "batch"}`,
        confirm: `Cancel ${workflow ? "workflow" : "batch"} ${id}? Its jobs that have not started are cancelled; its complete callback still runs.`,
      }));
    const facts = h("dl", { class: "facts" },
      fact("Status", h("span", { "data-field": "status" }, badge(batch.status))),
      fact("Tenant", batch.tenant),
      fact("Progress", h("progress", { max: 100, value: batch.progress, "aria-label": "progress" }), h("span", { "data-field": "progress" }, ` ${batch.progress}%`)),
      fact("Jobs", h("span", { "data-field": "counts" },
        `${number.format(batch.total)} in all: ${number.format(batch.succeeded)} succeeded, ${number.format(batch.failed)} failed, ${number.format(batch.cancelled)} cancelled, ${number.format(batch.unfinished)} unfinished`)));
    const times = h("dl", { class: "facts" },
      fact("Created", time(batch.created_at)),
      fact("Updated", time(batch.updated_at)),
      fact("Finished", time(batch.finished_at)));
    return [
      actions,
      h("div", { class: "grid2" },
        h("section", { class: "panel", "aria-labelledby": "batch-facts" }, h("h2", { id: "batch-facts" }, workflow ? "Workflow" : "Batch"), facts),
        h("section", { class: "panel", "aria-labelledby": "batch-times" }, h("h2", { id: "batch-times" }, "Times"), times)),
      workflow ? steps(workflow) : memberList(),
      workflow ? addedJobs(workflow) : null,
      h("p", { class: "muted" }, "Callbacks (on success, on complete) are jobs that run after the batch: their pages show it under Runs after."),
    ];
  }

  function steps(workflow) {
    return h("section", { "aria-labelledby": "steps-title" }, h("h2", { id: "steps-title" }, `Steps (${workflow.steps.length})`),
      h("div", { class: "scroll" }, h("table", {},
        h("caption", { class: "sr-only" }, "The workflow's steps, each after the steps it runs after"),
        h("thead", {}, h("tr", {}, ["step", "status", "runs after", "job", "type", "attempts", "started", "completed"].map((c) => h("th", { scope: "col" }, c)))),
        h("tbody", {}, workflow.steps.map((s) => h("tr", { "data-step": s.name, "data-status": s.status || "" },
          h("th", { scope: "row", id: "step-" + s.name }, cut(s.name)),
          h("td", {}, s.status ? badge(s.status) : h("span", { class: "muted" }, "expired")),
          h("td", { "data-field": "after" }, s.after.length ? cut(s.after.join(", ")) : h("span", { class: "muted" }, "—")),
          h("td", {}, cut(s.job_id, { class: "mono", href: jobHref(s.job_id, tenant) }, "a")),
          h("td", {}, s.type ? cut(s.type) : "—"),
          h("td", {}, s.attempts),
          h("td", { class: "nowrap" }, time(s.started_at)),
          h("td", { class: "nowrap" }, time(s.completed_at))))))));
  }

  /** Jobs added with POST /batches/{id}/jobs: not steps (no name, no dependencies), but counted and waited for. */
  function addedJobs(workflow) {
    const added = workflow.added_jobs || [];
    if (added.length === 0) return null;
    return h("section", { "aria-labelledby": "added-title" }, h("h2", { id: "added-title" }, `Added jobs (${added.length})`),
      h("p", { class: "muted" }, "Jobs added to the workflow while it ran; it ends when they have finished too."),
      h("div", { class: "scroll" }, h("table", {},
        h("caption", { class: "sr-only" }, "The jobs added to the workflow, oldest first"),
        h("thead", {}, h("tr", {}, ["job", "type", "status"].map((c) => h("th", { scope: "col" }, c)))),
        h("tbody", {}, added.map((j) => h("tr", { "data-added-job": j.job_id, "data-status": j.status },
          h("td", {}, cut(j.job_id, { class: "mono", href: jobHref(j.job_id, tenant) }, "a")),
          h("td", {}, cut(j.type)),
          h("td", {}, badge(j.status))))))));
  }

  function memberList() {
    const more = members.cursor ? h("button", { type: "button", "data-action": "more", "data-focus-key": "more", onclick: async () => {
      try { await loadMembers(); } catch (e) { body.prepend(h("p", { class: "error-box panel", role: "alert" }, e.message)); return; }
      last = "";
      await load();
    } }, "Load more") : null;
    return h("section", { "aria-labelledby": "members-title" }, h("h2", { id: "members-title" }, `Jobs (${members.jobs.length}${members.cursor ? "+" : ""})`),
      members.jobs.length === 0 ? h("p", { class: "muted" }, "None left (a finished job is deleted when its retention passes).") :
        h("div", { class: "scroll" }, h("table", {},
          h("caption", { class: "sr-only" }, "The batch's jobs, newest first"),
          h("thead", {}, h("tr", {}, ["job", "type", "status", "queue", "created"].map((c) => h("th", { scope: "col" }, c)))),
          h("tbody", {}, members.jobs.map((j) => h("tr", { "data-job-id": j.job_id, "data-status": j.status },
            h("td", {}, cut(j.job_id, { class: "mono", href: jobHref(j.job_id, tenant) }, "a")),
            h("td", {}, cut(j.type)),
            h("td", {}, badge(j.status)),
            h("td", {}, cut(j.queue)),
            h("td", { class: "nowrap" }, time(j.created_at))))))),
      h("div", { class: "toolbar" }, more));
  }

  await load();
  return { stop() { stopped = true; clearTimeout(timer); } };
}

function fact(label, ...value) { return [h("dt", {}, label), h("dd", {}, ...value)]; }
