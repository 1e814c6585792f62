// Job detail: facts, durations, a timeline of attempts, its durable steps and signals, payload, every error with its stack,
// result and the actions its state allows (and a signal for a job that waits for one).
import { call, fetchWithKey, JsonText, needsKey, settings } from "./api.js";
import { allowed, append, badge, batchHref, between, bounded, cut, duration, h, isWebAddress, jobHref, replaceChildren, time } from "./dom.js";
import { actionButton, keepFocus, notify, passing, saveFile, showOutage } from "./ui.js";

const payloadLimit = 64 * 1024;
const resultLimit = 8 * 1024;
const stepResultShown = 80;
const finished = ["SUCCESS", "PARTIAL_SUCCESS", "FAILED", "CANCELLED"];

/** tenant: the job's tenant when an operator opens another tenant's job (GET /jobs/{id}?tenant=). */
export async function renderJob(view, role, id, tenant) {
  let stopped = false;
  let timer = null;
  const body = h("div", {});
  append(view,
    h("p", {}, h("a", { href: "#/jobs" }, "← Jobs")),
    h("h1", {}, "Job ", h("span", { class: "mono" }, id)),
    body);

  let last = "";
  // What the operator typed into the signal form, kept when the page is drawn again while they type.
  const draft = { name: null, payload: "" };
  // Only the latest load draws: the 2-second follow-up still reading when an action's reload starts would otherwise
  // draw the job as it was before the action.
  let generation = 0;
  async function load() {
    const mine = ++generation;
    const path = "/jobs/" + encodeURIComponent(id);
    const scope = tenant ? "?tenant=" + encodeURIComponent(tenant) : "";
    let job, steps;
    try {
      // The steps are extra: when they cannot be read the job is still shown, with the reason in their place.
      [job, steps] = await Promise.all([call("GET", path + scope), call("GET", path + "/steps" + scope).catch((e) => ({ error: e.message }))]);
    } catch (e) {
      if (stopped || mine !== generation) return;
      if (!passing(e)) {
        replaceChildren(body, h("p", { class: "error-box panel", role: "alert" },
          e.status === 404 ? `No job ${id} for this key (it may have been deleted, expired, or belong to another tenant).` : e.message));
        return;
      }
      // A store that went away comes back: the job stays drawn under the reason, and is read again.
      showOutage(body, e.message);
      clearTimeout(timer);
      if (!stopped) timer = setTimeout(load, 2000);
      return;
    }
    if (stopped || mine !== generation) return;
    showOutage(body, null);
    const json = JSON.stringify([job, steps]);
    if (json !== last) {
      last = json;
      // An action the job's new state no longer allows (Retry once retried) hands the focus to the first that it does.
      keepFocus(body, () => replaceChildren(body, ...detail(job, steps, tenant, load, draft)),
        () => body.querySelector("[role=group] [data-focus-key]") || view.querySelector("h1"));
    }
    clearTimeout(timer);
    // While the job can still change, follow it.
    if (!finished.includes(job.status) && !stopped) timer = setTimeout(load, 2000);
  }

  await load();
  return { stop() { stopped = true; clearTimeout(timer); } };
}

function detail(job, steps, tenant, reload, draft) {
  const can = allowed(job.status);
  const path = "/jobs/" + encodeURIComponent(job.job_id);
  // An operator acts on another tenant's job by naming its tenant, as it read it.
  const scope = tenant ? "?tenant=" + encodeURIComponent(tenant) : "";
  const act = (method, suffix, body) => call(method, path + suffix + scope, body);
  // Keys name the job: an action in flight on one job must not make another job's button refuse presses (ui.js).
  const key = (action) => `job:${job.job_id}:${action}`;
  const actions = settings.readOnly ? null : h("div", { class: "toolbar", role: "group", "aria-label": "Actions" },
    can.retry ? actionButton("Retry", async () => { await act("POST", "/retry"); return `Job ${job.job_id} queued again.`; }, { done: reload, key: key("retry") }) : null,
    can.cancel ? actionButton("Cancel", async () => {
      await act("POST", "/cancel");
      return job.status === "RUNNING" ? "Cancellation sent; the running job stops shortly." : `Job ${job.job_id} cancelled.`;
    }, { done: reload, key: key("cancel") }) : null,
    can.delete ? actionButton("Delete", async () => {
      await act("DELETE", "");
      location.hash = "#/jobs";
      return `Job ${job.job_id} deleted.`;
    }, { danger: true, confirm: `Delete job ${job.job_id}? This cannot be undone.`, confirmLabel: "Delete job", key: key("delete") }) : null);

  const traceId = job.trace_id;
  const facts = h("dl", { class: "facts" },
    fact("Status", h("span", { "data-field": "status" }, badge(job.status)), job.cancel_requested ? " (cancellation requested)" : null),
    fact("Type", job.type),
    fact("Queue", h("a", { href: "#/jobs?queue=" + encodeURIComponent(job.queue) }, job.queue)),
    job.tenant ? fact("Tenant", job.tenant) : null,
    fact("Attempts", `${job.attempts} of ${job.max_retry + 1}`),
    fact("Progress", h("progress", { max: 100, value: job.progress, "aria-label": "progress" }), ` ${job.progress}%`),
    job.snoozed_reason ? fact("Waiting because", job.snoozed_reason) : null,
    job.batch_id ? fact("Batch", h("a", { class: "mono", "data-field": "batch", href: batchHref(job.batch_id, tenant) }, job.batch_id),
      " (its progress; a workflow's steps)") : null,
    job.depends_on && job.depends_on.length ? fact("Runs after", ...job.depends_on.flatMap((id, i) => [i ? ", " : null,
      id.startsWith("batch_") ? h("a", { class: "mono", "data-field": "after-batch", href: batchHref(id, tenant) }, id)
        : h("a", { class: "mono", "data-field": "after-job", href: jobHref(id, tenant) }, id)])) : null,
    traceId ? fact("Trace id", h("code", {}, traceId)) : null);

  const times = h("dl", { class: "facts" },
    fact("Created", time(job.created_at)),
    job.scheduled_at ? fact("Scheduled for", time(job.scheduled_at)) : null,
    fact("Started", time(job.started_at), job.started_at ? ` (waited ${duration(between(job.scheduled_at && job.scheduled_at < job.started_at ? job.scheduled_at : job.created_at, job.started_at))})` : null),
    fact("Completed", time(job.completed_at), job.completed_at && job.started_at ? ` (ran ${duration(between(job.started_at, job.completed_at))})` : null),
    job.completed_at ? fact("Total", duration(between(job.created_at, job.completed_at))) : null,
    fact("Updated", time(job.updated_at)));

  return [
    actions,
    h("div", { class: "grid2" },
      h("section", { class: "panel", "aria-labelledby": "facts-title" }, h("h2", { id: "facts-title" }, "Job"), facts),
      h("section", { class: "panel", "aria-labelledby": "times-title" }, h("h2", { id: "times-title" }, "Times"), times)),
    stepsSection(job, steps, act, reload, draft),
    h("section", { "aria-labelledby": "timeline-title" }, h("h2", { id: "timeline-title" }, "Timeline"), h("div", { class: "panel" }, timeline(job))),
    h("section", { "aria-labelledby": "errors-title" },
      h("h2", { id: "errors-title" }, `Errors (${job.errors.length})`),
      job.errors.length === 0 ? h("p", { class: "muted" }, "None.") : job.errors.map(errorItem)),
    h("section", { "aria-labelledby": "payload-title" }, h("h2", { id: "payload-title" }, "Payload"), jsonBlock(job.payload, payloadLimit, "payload", job.job_id)),
    h("section", { "aria-labelledby": "result-title" }, h("h2", { id: "result-title" }, "Result"),
      job.result_url ? resultUrl(job.result_url, job.job_id) : null,
      job.result === null || job.result === undefined ? h("p", { class: "muted" }, "No result stored.") : jsonBlock(job.result, resultLimit, "result", job.job_id)),
  ];
}

/**
 * The result URL as a link. On a server with API keys the browser would follow a link to its own server without the
 * key, and the user would see a 401 instead of the file: while a key is held, a click on a link to this origin fetches
 * it with the key, then saves the file or shows its JSON under the link. A link to another origin stays a plain link
 * (the key never goes there), as does every link when no key is held (a server without keys needs none).
 */
function resultUrl(url, jobId) {
  // A handler may store any text: a javascript: or data: address would run or show what it holds in the dashboard's
  // own page, so only a web address is a link.
  if (!isWebAddress(url)) {
    return h("p", {}, "Result URL: ", h("span", { class: "mono", "data-field": "result-url" }, url),
      h("span", { class: "muted" }, " (not an http or https address: not a link)"));
  }
  const shown = h("div", { "data-field": "result-url-content" });
  const link = h("a", { href: url, "data-field": "result-url" }, url);
  link.addEventListener("click", async (event) => {
    if (!needsKey(url)) return;
    event.preventDefault();
    if (link.getAttribute("aria-busy") === "true") return;
    link.setAttribute("aria-busy", "true");
    try {
      const answer = await fetchWithKey(url);
      if (answer.blob) {
        saveFile(answer.blob, answer.fileName);
        notify(`Saved ${answer.fileName}.`);
      } else {
        replaceChildren(shown, jsonBlock(answer.json, payloadLimit, "result-url-json", jobId, "JSON at the result URL"));
      }
    } catch (e) {
      notify(e.message, true);
    } finally {
      link.removeAttribute("aria-busy");
    }
  });
  return [h("p", {}, "Result URL: ", link), shown];
}

/**
 * GET /jobs/{id}/steps: what the handler stored durably (steps with their results, signals received, the deadlines of
 * waits and sleeps), and a form to send the signal the job waits for.
 */
function stepsSection(job, steps, act, reload, draft) {
  let content;
  if (steps.error) content = h("p", { class: "error-box panel" }, "The steps could not be read: " + steps.error);
  else if (steps.steps.length === 0) content = h("p", { class: "muted" }, "None: the handler stored no step, received no signal and did not wait.");
  else {
    content = h("div", { class: "scroll" }, h("table", {},
      h("caption", { class: "sr-only" }, "The job's durable steps, signals and waits, in the order they were stored"),
      h("thead", {}, h("tr", {}, ["name", "kind", "attempt", "when", "result", "timed out"].map((c) => h("th", { scope: "col" }, c)))),
      h("tbody", {}, steps.steps.map((s) => h("tr", { "data-step-name": s.name, "data-kind": s.kind },
        h("th", { scope: "row" }, cut(s.name, { class: "mono" })),
        h("td", {}, s.kind),
        h("td", {}, s.attempt),
        h("td", { class: "nowrap" }, time(s.completed_at)),
        h("td", { "data-field": "step-result" }, stepResult(s, job.job_id)),
        h("td", { "data-field": "timed-out" }, s.timed_out ? "yes" : h("span", { class: "muted" }, "—")))))));
  }
  const waiting = steps.error ? [] : awaitedSignals(steps.steps);
  const form = !settings.readOnly && !finished.includes(job.status) && waiting.length ? signalForm(job, waiting, act, reload, draft) : null;
  return h("section", { "aria-labelledby": "steps-title" }, h("h2", { id: "steps-title" }, "Steps and signals"), content, form);
}

/** A wait's or sleep's deadline as a time; any other result as one line of JSON, cut, with the whole of it on demand. */
function stepResult(step, jobId) {
  if (step.result === null || step.result === undefined) return h("span", { class: "muted" }, "—");
  if ((step.kind === "wait" || step.kind === "sleep") && typeof step.result === "string") return ["until ", time(step.result)];
  const { text, cut } = bounded(JSON.stringify(step.result), stepResultShown);
  if (!cut) return h("code", {}, text);
  const more = h("details", {}, h("summary", {}, "Full JSON"));
  // Built when opened: a result may be up to a mebibyte, and most are never looked at.
  more.addEventListener("toggle", () => {
    if (more.open && more.children.length === 1) append(more, jsonBlock(step.result, resultLimit, `${step.kind}-${step.name}`, jobId));
  });
  return [h("code", {}, text + "…"), more];
}

/** The signals the job waits for: a wait's deadline is stored, and no signal of its name (delivered or timed out) yet. */
function awaitedSignals(steps) {
  const decided = new Set(steps.filter((s) => s.kind === "signal").map((s) => s.name));
  return steps.filter((s) => s.kind === "wait" && !decided.has(s.name)).map((s) => s.name);
}

/** POST /jobs/{id}/signals/{name} with the payload as typed (empty sends null), in the job's tenant. */
function signalForm(job, waiting, act, reload, draft) {
  const name = h("input", { id: "signal-name", name: "signal-name", "data-focus-key": "signal-name", value: draft.name ?? waiting[0], required: true, spellcheck: "false", autocomplete: "off", size: 24 });
  const payload = h("textarea", { id: "signal-payload", name: "signal-payload", "data-focus-key": "signal-payload", rows: 3, spellcheck: "false", placeholder: "{\"approved\": true}", value: draft.payload });
  name.addEventListener("input", () => { draft.name = name.value; });
  payload.addEventListener("input", () => { draft.payload = payload.value; });
  const send = actionButton("Send signal", async () => {
    const signal = name.value.trim();
    if (!signal) throw new Error("Type the signal's name.");
    const answer = await act("POST", "/signals/" + encodeURIComponent(signal), new JsonText(payload.value.trim() || "null"));
    draft.name = null;
    draft.payload = "";
    return answer && answer.status === "QUEUED" ? `Signal '${signal}' delivered: job ${job.job_id} is queued to run again.` : `Signal '${signal}' delivered to job ${job.job_id}.`;
  }, { done: reload, name: "signal", key: `job:${job.job_id}:signal` });
  const form = h("form", { class: "panel signal", "aria-labelledby": "signal-title", autocomplete: "off" },
    h("h3", { id: "signal-title" }, "Send a signal"),
    h("p", { class: "muted" }, `The job waits for signal ${waiting.map((n) => `'${n}'`).join(", ")}: its wait returns the signal's payload (JSON), and a job parked for it runs again at once.`),
    h("div", { class: "field" }, h("label", { for: "signal-name" }, "Name"), name),
    h("div", { class: "field" }, h("label", { for: "signal-payload" }, "Payload (JSON; empty sends null)"), payload),
    h("div", { class: "toolbar" }, send));
  // Enter in the name field sends, as the button does (the button is not a submit button: actionButton runs it).
  form.addEventListener("submit", (event) => { event.preventDefault(); send.click(); });
  return form;
}

function fact(label, ...value) { return [h("dt", {}, label), h("dd", {}, ...value)]; }

function timeline(job) {
  const events = [{ at: job.created_at, text: "Created", kind: "" }];
  for (const e of job.errors) {
    events.push({ at: e.occurred_at, kind: "bad", text: e.item ? `Attempt ${e.attempt}: item ${e.item} failed` : `Attempt ${e.attempt} failed${e.exception_type ? ": " + e.exception_type : ""}` });
  }
  if (job.scheduled_at && job.scheduled_at !== job.created_at) events.push({ at: job.scheduled_at, text: "Due (scheduled or retried for)", kind: "" });
  if (job.started_at) events.push({ at: job.started_at, text: `Attempt ${job.attempts} started`, kind: "" });
  if (job.completed_at) events.push({ at: job.completed_at, text: `Finished: ${job.status.replace("_", " ").toLowerCase()}`, kind: job.status === "SUCCESS" ? "good" : job.status === "FAILED" ? "bad" : "" });
  events.sort((a, b) => new Date(a.at) - new Date(b.at));
  let previous = null;
  return h("ol", { class: "timeline" }, events.map((e) => {
    const gap = previous ? between(previous, e.at) : null;
    previous = e.at;
    return h("li", { class: e.kind }, time(e.at), " ", e.text, gap !== null ? h("span", { class: "muted" }, ` (+${duration(gap)})`) : null);
  }));
}

function errorItem(e) {
  return h("article", { class: "error-item", "data-error-attempt": e.attempt },
    h("div", {}, h("strong", {}, `Attempt ${e.attempt}`), e.item ? ` · item ${e.item}` : "", " · ", time(e.occurred_at),
      e.exception_type ? [" · ", h("code", {}, e.exception_type)] : null),
    h("p", { class: "message" }, e.message),
    e.stack_trace ? h("details", {}, h("summary", {}, "Stack trace"), h("pre", {}, e.stack_trace)) : null);
}

/** Pretty JSON, cut at limit characters with a download link for the whole value. label: what it is called on screen. */
function jsonBlock(value, limit, name, jobId, label = name) {
  const text = typeof value === "string" ? value : JSON.stringify(value, null, 2);
  const { text: shown, cut } = bounded(text, limit);
  const download = h("a", { href: URL.createObjectURL(new Blob([text], { type: "application/json" })), download: `${jobId}.${name}.json` }, `Download ${label}`);
  return h("div", {},
    h("pre", { "data-field": name, tabindex: 0, "aria-label": label }, shown),
    cut ? h("p", { class: "muted" }, `${cut.toLocaleString()} more characters not shown. `, download) : h("p", {}, download));
}
