// Overview: totals by state, throughput graph, queue latency, queues (pause/resume) and the live servers; refreshes itself.
import { apiKey, call } from "./api.js";
import { ago, append, badge, cut, duration, h, number, replaceChildren, time } from "./dom.js";
import { throughputChart } from "./chart.js";
import { actionButton, notify } from "./ui.js";

// WAITING: jobs that run after others not yet finished (a continuation, a workflow's step, a batch's callback).
const totals = [
  ["WAITING", "waiting"], ["SCHEDULED", "scheduled"], ["QUEUED", "queued"], ["RUNNING", "running"],
  ["RETRYING", "retrying"], ["FAILED", "failed"], ["SUCCESS", "success"], ["PARTIAL_SUCCESS", "partial_success"],
  ["CANCELLED", "cancelled"],
];

export async function renderOverview(view, role) {
  const sections = {
    totals: h("section", { "aria-labelledby": "totals-title" }),
    throughput: h("section", { "aria-labelledby": "throughput-title", hidden: true }),
    queues: h("section", { "aria-labelledby": "queues-title" }),
    servers: h("section", { "aria-labelledby": "servers-title" }),
  };
  append(view, h("h1", {}, "Overview"), ...Object.values(sections));
  if (role === "anonymous") {
    append(sections.totals, h("p", {}, apiKey() ? "The server refused this API key: type another above to see the queues and jobs." : "Type an API key above to see the queues and jobs."));
    return null;
  }
  if (role === "tenant") {
    append(sections.totals,
      h("h2", { id: "totals-title" }, "Your jobs"),
      h("p", {}, "Queue totals, throughput and servers cover every tenant, so they need an operator key. Your jobs by state:"),
      h("div", { class: "cards" }, totals.map(([status]) => h("a", { class: "card", href: "#/jobs?status=" + status, "data-state": status },
        h("div", { class: "value" }, badge(status))))));
    return null;
  }

  const seen = {};
  let stopped = false;
  let throughputMissing = false;
  let outage = null;
  async function refresh() {
    const [queues, servers, throughput] = await Promise.allSettled([
      call("GET", "/queues"),
      call("GET", "/servers"),
      throughputMissing ? Promise.resolve(null) : call("GET", "/stats/throughput?minutes=5"),
    ]);
    if (stopped) return;
    // The reason a refresh failed stays until one succeeds, then goes: an outage that ended is not shown above live numbers.
    if (queues.status === "fulfilled" && servers.status === "fulfilled" && outage) {
      if (outage.isConnected) outage.remove();
      outage = null;
    }
    if (queues.status === "fulfilled") {
      update("totals", queues.value, () => renderTotals(sections.totals, queues.value.queues));
      update("queues", queues.value, () => renderQueues(sections.queues, queues.value.queues, refresh));
    } else outage = notify("Queues: " + queues.reason.message, true);
    if (servers.status === "fulfilled") update("servers", servers.value, () => renderServers(sections.servers, servers.value.servers));
    else outage = notify("Servers: " + servers.reason.message, true);
    if (throughput.status === "fulfilled" && throughput.value) {
      sections.throughput.hidden = false;
      replaceChildren(sections.throughput, h("h2", { id: "throughput-title" }, "Throughput (jobs per second, last 5 minutes)"), throughputChart(throughput.value));
    } else if (throughput.status === "rejected" && (throughput.reason.status === 404 || throughput.reason.status === 405)) {
      // An older server without GET /stats/throughput: no graph rather than an error every two seconds.
      throughputMissing = true;
      sections.throughput.hidden = true;
    }
  }

  /** Re-renders a section only when its data changed, so a focused button keeps its focus between refreshes. */
  function update(name, data, render) {
    const json = JSON.stringify(data);
    if (seen[name] === json) return;
    seen[name] = json;
    const focused = document.activeElement && document.activeElement.dataset && document.activeElement.dataset.focusKey;
    render();
    if (focused) {
      const again = sections[name].querySelector(`[data-focus-key="${CSS.escape(focused)}"]`);
      if (again) again.focus();
    }
  }

  await refresh();
  const timer = setInterval(refresh, 2000);
  return { stop() { stopped = true; clearInterval(timer); } };
}

function renderTotals(section, queues) {
  const sum = (key) => queues.reduce((total, q) => total + (q[key] || 0), 0);
  const latency = queues.reduce((max, q) => Math.max(max, q.latency_seconds || 0), 0);
  replaceChildren(section,
    h("h2", { id: "totals-title" }, "Jobs by state"),
    h("div", { class: "cards" },
      totals.map(([status, key]) => h("a", { class: "card", href: "#/jobs?status=" + status, "data-state": status },
        h("div", { class: "label" }, badge(status)),
        h("div", { class: "value" }, number.format(sum(key))))),
      h("div", { class: "card", "data-state": "latency" },
        h("div", { class: "label" }, "queue latency (oldest waiting)"),
        h("div", { class: "value" }, duration(latency)))));
}

function renderQueues(section, queues, refresh) {
  const columns = [["waiting", "WAITING"], ["scheduled", "SCHEDULED"], ["queued", "QUEUED"], ["running", "RUNNING"],
    ["retrying", "RETRYING"], ["failed", "FAILED"], ["success", "SUCCESS"], ["partial_success", "PARTIAL_SUCCESS"], ["cancelled", "CANCELLED"]];
  const rows = queues.map((q) => h("tr", { "data-queue": q.name },
    h("th", { scope: "row" }, cut(q.name, { href: "#/jobs?queue=" + encodeURIComponent(q.name) }, "a")),
    h("td", {}, q.paused ? h("span", { class: "badge s-paused" }, "paused") : h("span", { class: "badge s-active" }, "active")),
    h("td", { class: "num" + (q.servers === 0 ? " err-num" : ""), title: q.servers === 0 ? "No live server serves this queue: its jobs wait." : null }, q.servers),
    columns.map(([key, status]) => h("td", { class: "num" },
      q[key] ? h("a", { href: `#/jobs?status=${status}&queue=${encodeURIComponent(q.name)}` }, number.format(q[key])) : "0")),
    h("td", { class: "num" }, duration(q.latency_seconds)),
    h("td", { class: "limits" }, (q.limits || []).length === 0 ? "none" : q.limits.map(describeLimit)),
    h("td", { class: "actions" }, actionButton(q.paused ? "Resume" : "Pause",
      async () => {
        await call("POST", `/queues/${encodeURIComponent(q.name)}/${q.paused ? "resume" : "pause"}`);
        return `Queue ${q.name} ${q.paused ? "resumed" : "paused"}.`;
      },
      { done: refresh, name: q.paused ? "resume" : "pause", key: "queue:" + q.name }))));
  replaceChildren(section,
    h("h2", { id: "queues-title" }, "Queues"),
    queues.length === 0 ? h("p", {}, "No queues yet.") : h("div", { class: "scroll" }, h("table", { class: "counts" },
      h("caption", { class: "sr-only" }, "Queues with their jobs by state"),
      h("thead", {}, h("tr", {},
        h("th", { scope: "col" }, "queue"), h("th", { scope: "col" }, "state"), h("th", { scope: "col", class: "num" }, "servers"),
        columns.map(([key]) => h("th", { scope: "col", class: "num" }, key.replace("_", " "))),
        h("th", { scope: "col", class: "num" }, "latency"), h("th", { scope: "col" }, "limits"),
        h("th", { scope: "col" }, h("span", { class: "sr-only" }, "actions")))),
      h("tbody", {}, rows))));
}

// One limit in force on a queue, read-only (GET /limits and PUT /limits/{kind}/{name} change them).
function describeLimit(limit) {
  const scope = (limit.partition === "tenant" ? " per tenant" : "") + (limit.job_type ? ` (${limit.job_type})` : "");
  const text = limit.kind === "concurrency"
    ? `${number.format(limit.max)} running${scope}`
    : `${number.format(limit.limit)} / ${limit.period_seconds} s${limit.burst > 1 ? `, burst ${number.format(limit.burst)}` : ""}${scope}`;
  return h("span", {
    class: "badge limit",
    "data-limit": `${limit.kind}:${limit.name}`,
    title: `${limit.kind} limit '${limit.name}', from ${limit.source}`,
  }, text);
}

function renderServers(section, servers) {
  replaceChildren(section,
    h("h2", { id: "servers-title" }, `Servers (${servers.length})`),
    servers.length === 0 ? h("p", {}, "No worker server has a current heartbeat.") : h("div", { class: "scroll" }, h("table", {},
      h("caption", { class: "sr-only" }, "Worker servers with a current heartbeat"),
      h("thead", {}, h("tr", {},
        ["server", "host", "pid", "queues (weight)", "running / concurrency", "started", "last heartbeat"].map((c) => h("th", { scope: "col" }, c)))),
      h("tbody", {}, servers.map((s) => h("tr", { "data-server": s.id },
        h("th", { scope: "row" }, cut(s.id, { class: "mono" })),
        h("td", {}, cut(s.host)),
        h("td", { class: "num" }, s.pid),
        h("td", {}, cut(Object.entries(s.queues).map(([name, weight]) => `${name} (${weight})`).join(", "))),
        h("td", { class: "num" }, `${s.running} / ${s.concurrency}`),
        h("td", { class: "nowrap" }, time(s.started_at)),
        h("td", { class: "nowrap", title: s.last_heartbeat_at }, ago(s.last_heartbeat_at))))))));
}
