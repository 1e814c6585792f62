// Schedules: cron, time zone, next fires, last run and its state; pause, resume and trigger now. An operator (an admin
// key) sees every tenant's, schedules from code or configuration among them (the default tenant's), with a tenant
// column; its actions and links name the schedule's tenant.
import { call, query } from "./api.js";
import { append, badge, cron, cut, h, replaceChildren, time } from "./dom.js";
import { actionButton, keepFocus } from "./ui.js";

export async function renderSchedules(view, role) {
  const everyTenant = role === "operator";
  const table = h("div", {});
  const more = h("div", { class: "toolbar" });
  const heading = h("h1", {}, "Schedules");
  append(view, heading, table, more);
  const schedules = [];
  let cursor = null;

  async function load(reset) {
    if (reset) { schedules.length = 0; cursor = null; }
    try {
      const answer = await call("GET", "/schedules" + query({ limit: 100, cursor, tenant: everyTenant ? "*" : undefined }));
      schedules.push(...answer.schedules);
      cursor = answer.next_cursor;
    } catch (e) {
      replaceChildren(table, h("p", { class: "error-box panel", role: "alert" }, e.message));
      return;
    }
    render();
  }

  async function reloadAll() {
    const wanted = schedules.length;
    await load(true);
    while (cursor && schedules.length < wanted) await load(false);
  }

  function render() {
    // Pause and Trigger now draw the table again: the focus stays on the schedule's button (Pause becomes Resume).
    keepFocus(view, draw, () => heading);
  }

  function draw() {
    replaceChildren(table, schedules.length === 0 ? h("p", { class: "panel" }, "No schedules.") : h("div", { class: "scroll" }, h("table", {},
      h("caption", { class: "sr-only" }, "Recurring schedules"),
      h("thead", {}, h("tr", {}, [...(everyTenant ? ["tenant"] : []), "schedule", "cron / time zone", "job type / queue", "state", "next fires", "last run", ""].map((c) =>
        h("th", { scope: "col" }, c === "" ? h("span", { class: "sr-only" }, "actions") : c)))),
      h("tbody", {}, schedules.map(row)))));
    replaceChildren(more, cursor ? h("button", { type: "button", "data-focus-key": "more", onclick: () => load(false) }, "Load more") : null);
  }

  function row(s) {
    const inTenant = everyTenant ? "?tenant=" + encodeURIComponent(s.tenant) : "";
    const path = "/schedules/" + encodeURIComponent(s.name);
    const key = `schedule:${s.tenant}:${s.name}:`;
    return h("tr", { "data-schedule": s.name },
      everyTenant ? h("td", {}, cut(s.tenant)) : null,
      h("th", { scope: "row" }, cut(s.name), s.source === "code" ? h("div", { class: "muted" }, "from code or configuration") : null),
      h("td", {}, cron(s.cron), h("div", { class: "muted" }, zone(s.time_zone))),
      h("td", {}, cut(s.job_type), cut(s.queue, { class: "muted" })),
      h("td", {}, s.paused ? h("span", { class: "badge s-paused" }, "paused") : h("span", { class: "badge s-active" }, "active")),
      h("td", { class: "nowrap" }, s.next_fire_times.length === 0 ? h("span", { class: "muted" }, "none") :
        h("ul", { class: "plain" }, s.next_fire_times.slice(0, 3).map((t) => h("li", {}, time(t))))),
      h("td", { class: "nowrap" }, s.last_fire_at ? [time(s.last_fire_at), h("div", {},
        s.last_job_id ? h("a", { href: "#/jobs/" + encodeURIComponent(s.last_job_id) + inTenant }, s.last_job_status ? badge(s.last_job_status) : "job no longer kept") : null)]
        : h("span", { class: "muted" }, "never")),
      h("td", { class: "actions" },
        actionButton(s.paused ? "Resume" : "Pause", async () => {
          await call("POST", `${path}/${s.paused ? "resume" : "pause"}${inTenant}`);
          return `Schedule ${s.name} ${s.paused ? "resumed" : "paused"}.`;
        }, { done: reloadAll, name: s.paused ? "resume" : "pause", key: key + "pause" }),
        actionButton("Trigger now", async () => {
          const created = await call("POST", `${path}/trigger${inTenant}`);
          return `Schedule ${s.name} enqueued job ${created.job_id}.`;
        }, { done: reloadAll, name: "trigger", key: key + "trigger" })));
  }

  await load(true);
  return null;
}

/** An IANA time zone (America/Argentina/Buenos_Aires) breaks after its slashes when the column is narrow. */
function zone(name) {
  return h("span", {}, String(name).split("/").flatMap((part, i) => [i ? ["/", h("wbr")] : null, part]));
}
