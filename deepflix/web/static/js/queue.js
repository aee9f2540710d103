// The operators' queue board (the seed's Bull Board): films by state, stage
// counts and timings, workers online, queue depths and dead letters (from
// GET /api/admin/queue), what is queued or running and what failed, with
// cancel and retry of anyone's film (/api/admin/movies). Needs an admin key.

import { api, ApiError, requireKey } from "./api.js";
import { $, ago, badge, h, seconds, STATUS_LABELS } from "./ui.js";
import { STAGE_LABELS, STAGE_ORDER } from "./movie.js";

const EVERY_MS = 3000;
const STATES = [["queued", "queued"], ["running", "running"], ["awaiting_review", "awaiting_review"], ["succeeded", "done"], ["failed", "failed"], ["cancelled", "cancelled"]];
let timer = null;
let paused = false;
let busy = false;

function rows(table, list, make, empty) {
  const cols = table.tHead.rows[0].cells.length;
  table.tBodies[0].replaceChildren(...(list.length ? list.map(make) : [h("tr", {}, h("td", { colspan: cols, class: "empty" }, empty))]));
}

const n = (v) => String(v ?? 0);
const epoch = (s) => (typeof s === "number" ? new Date(s * 1000).toISOString() : s);

function film(m) {
  return h("td", {}, m.title || m.prompt || "Untitled", h("span", { class: "film-id" }, m.id));
}

function action(m, verb) {
  const label = verb === "retry" ? "Retry" : "Cancel";
  return h("td", { class: "row-actions" }, h("button", {
    type: "button", class: `btn btn--sm ${verb === "retry" ? "btn--primary" : "btn--ghost"}`,
    dataset: { verb, id: m.id }, "aria-label": `${label} ${m.title || m.prompt || m.id}`,
  }, label));
}

function render(stats, active, failed) {
  const movies = stats.movies || {};
  $("#states").replaceChildren(...STATES.map(([key, style]) =>
    h("li", { class: "stat", dataset: { status: style } },
      h("span", { class: "stat__n" }, n(movies[key])), h("span", { class: "stat__label" }, STATUS_LABELS[style]))));

  const counts = stats.stages || {};
  const secs = stats.stage_seconds || {};
  rows($("#stages-table"), STAGE_ORDER.filter((s) => counts[s] || secs[s]), (name) => {
    const c = counts[name] || {};
    const t = secs[name] || {};
    const timed = (v) => (t.count ? seconds(v) : "–");
    return h("tr", {},
      h("th", { scope: "row" }, STAGE_LABELS[name] || name),
      h("td", { class: "num" }, n(c.waiting)), h("td", { class: "num" }, n((c.ready || 0) + (c.queued || 0))),
      h("td", { class: "num" }, n(c.running)), h("td", { class: "num" }, n(c.succeeded)),
      h("td", { class: "num" }, n(c.failed)),
      h("td", { class: "num" }, timed(t.mean)), h("td", { class: "num" }, timed(t.p95)), h("td", { class: "num" }, timed(t.max)));
  }, "No stage has run yet.");

  const broker = stats.broker || { ok: true };
  rows($("#workers"), stats.workers || [], (w) => h("tr", {},
    h("td", {}, h("span", { class: "dot", "aria-hidden": "true" }), w.id || w.host || "?"),
    h("td", {}, (w.queues || []).join(", ")),
    h("td", { class: "num" }, n(w.threads)),
    h("td", {}, ago(epoch(w.seen)))),
  broker.ok ? "No worker has checked in. Start one with deepflix worker." : "Unknown: the job queue cannot be reached.");

  rows($("#queues"), Object.entries(stats.queues || {}), ([q, d]) => h("tr", {},
    h("th", { scope: "row" }, q), h("td", { class: "num" }, n(d.queued ?? d.waiting)),
    h("td", { class: "num" }, n(d.delayed)), h("td", { class: "num" }, n(d.dead))),
  broker.ok ? "No queues." : "Unknown: the job queue cannot be reached.");

  const letters = (stats.dead_letters && stats.dead_letters.latest) || [];
  $("#dead-panel").hidden = letters.length === 0;
  rows($("#dead"), letters, (d) => h("tr", {},
    h("td", {}, d.queue), h("td", {}, d.actor), h("td", { class: "err" }, d.error || ""), h("td", {}, ago(epoch(d.failed_at)))), "");

  rows($("#active"), active, (m) => h("tr", {},
    film(m), h("td", {}, badge(m.status)), h("td", { class: "num" }, `${Math.round((m.progress || 0) * 100)}%`),
    h("td", {}, ago(m.created_at)), action(m, "cancel")), "Nothing is queued or running.");
  rows($("#failed"), failed, (m) => h("tr", {},
    film(m), h("td", { class: "err" }, m.error || ""), h("td", {}, ago(m.finished_at || m.created_at)), action(m, "retry")),
  "No failed films.");

  const err = $("#queue-error");
  err.hidden = broker.ok;
  if (!broker.ok) err.textContent = `${broker.error || "The job queue cannot be reached"}. Films wait in the database and go out when it is back.`;
  $("#updated").textContent = `Updated ${new Date().toLocaleTimeString()}`;
}

async function refresh() {
  clearTimeout(timer);
  if (busy) return;
  busy = true;
  try {
    const [stats, running, queued, failed] = await Promise.all([
      api("/api/admin/queue"),
      api("/api/admin/movies?status=running&limit=50"),
      api("/api/admin/movies?status=queued&limit=50"),
      api("/api/admin/movies?status=failed&limit=20"),
    ]);
    render(stats, [...running.items, ...queued.items], failed.items);
  } catch (err) {
    const box = $("#queue-error");
    box.hidden = false;
    if (err instanceof ApiError && err.status === 403) {
      box.textContent = "This board is for operators, and your key is not an admin key. An operator can make one with deepflix keys create --user NAME --admin.";
      return; // no point asking again
    }
    box.textContent = `The queue could not be read: ${err.message}`;
  } finally {
    busy = false;
  }
  if (!paused) timer = setTimeout(refresh, document.hidden ? EVERY_MS * 5 : EVERY_MS);
}

document.addEventListener("click", async (e) => {
  const b = e.target.closest("button[data-verb]");
  if (!b) return;
  const { verb, id } = b.dataset;
  b.disabled = true;
  try {
    await api(`/api/admin/movies/${encodeURIComponent(id)}/${verb}`, { method: "POST" });
    $("#queue-status").textContent = verb === "retry" ? "Sent back to the queue." : "Cancelled.";
  } catch (err) {
    $("#queue-status").textContent = err.message;
    b.disabled = false;
  }
  refresh();
});

$("#pause-btn").addEventListener("click", (e) => {
  paused = !paused;
  e.currentTarget.setAttribute("aria-pressed", String(paused));
  e.currentTarget.textContent = paused ? "Resume updates" : "Pause updates";
  if (paused) clearTimeout(timer);
  else refresh();
});

if (requireKey()) refresh();
