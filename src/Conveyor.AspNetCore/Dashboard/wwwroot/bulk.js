// Bulk retry, cancel or delete through POST /jobs/bulk in bounded batches, with progress and a Stop button.
import { ApiError, call } from "./api.js";
import { h, number, replaceChildren } from "./dom.js";

const batch = 500;
const past = { retry: "retried", cancel: "cancelled", delete: "deleted" };

/** target: {ids: [...], tenant} or {filter: {...}}. Resolves to a one-line summary. */
export async function runBulk(container, action, target) {
  let stop = false;
  const bar = h("progress", { max: target.ids ? target.ids.length : 1, "aria-label": "Bulk progress" });
  if (target.ids) bar.value = 0;
  const text = h("span", { "data-bulk-progress": "" }, "Starting…");
  // aria-disabled once pressed, not disabled: a disabled button drops the keyboard focus to the page.
  const stopButton = h("button", { type: "button", onclick: () => { stop = true; stopButton.setAttribute("aria-disabled", "true"); } }, "Stop");
  const hadFocus = container.contains(document.activeElement);
  replaceChildren(container, h("div", { class: "toolbar", role: "status", "aria-live": "polite" }, h("strong", {}, `Bulk ${action}:`), bar, text, stopButton));
  // The button that started the run is gone: the focus goes to Stop, the one control left while it runs.
  if (hadFocus) stopButton.focus();
  const totals = { matched: 0, applied: 0, skipped: 0 };
  const show = () => {
    text.textContent = `${number.format(totals.matched)} matched, ${number.format(totals.applied)} ${past[action]}, ${number.format(totals.skipped)} skipped`;
    if (target.ids) bar.value = totals.matched;
  };

  try {
    if (target.ids) {
      for (let i = 0; i < target.ids.length && !stop; i += batch) {
        const ids = target.ids.slice(i, i + batch);
        let answer;
        try {
          answer = await call("POST", "/jobs/bulk", target.tenant ? { action, ids, tenant: target.tenant } : { action, ids });
        } catch (e) {
          if (!(e instanceof ApiError) || (e.status !== 404 && e.status !== 405)) throw e;
          answer = await oneByOne(action, ids); // a server without POST /jobs/bulk: one request per job
        }
        add(totals, answer);
        show();
      }
    } else {
      let cursor = null;
      do {
        let answer;
        try {
          answer = await call("POST", "/jobs/bulk", { action, filter: target.filter, cursor, limit: batch });
        } catch (e) {
          if (e instanceof ApiError && (e.status === 404 || e.status === 405)) throw new ApiError(e.status, "This server cannot act on every job of a filter (no POST /jobs/bulk); select the jobs instead.", null);
          throw e;
        }
        add(totals, answer);
        show();
        cursor = answer.next_cursor;
      } while (cursor && !stop);
      bar.max = 1;
      bar.value = 1;
    }
  } catch (e) {
    // What was done before the failure is part of its message: the progress line it replaces is gone with it.
    if (totals.matched > 0) e.message = `${e.message} Before it: ${text.textContent}.`;
    throw e;
  }
  stopButton.remove();
  return `Bulk ${action}${stop ? " stopped" : " done"}: ${text.textContent}.`;
}

function add(totals, answer) {
  totals.matched += answer.matched || 0;
  totals.applied += answer.applied || 0;
  totals.skipped += answer.skipped || 0;
}

async function oneByOne(action, ids) {
  const answer = { matched: ids.length, applied: 0, skipped: 0 };
  for (const id of ids) {
    const path = "/jobs/" + encodeURIComponent(id);
    try {
      if (action === "delete") await call("DELETE", path);
      else await call("POST", `${path}/${action}`);
      answer.applied++;
    } catch (e) {
      if (e.status === 404 || e.status === 409) answer.skipped++;
      else throw e;
    }
  }
  return answer;
}
