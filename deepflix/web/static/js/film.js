// A film's page: live progress per stage (server-sent events), the story as
// soon as it is written, a storyboard that fills as pictures arrive, errors
// with a retry, and, once done, the player and the downloads.
//
// Events say "something changed" and are applied at once where they carry
// enough (a stage's count, a picture's URL); the movie is then re-read from
// GET /api/movies/{id}, which is the truth, at most a few times a second.

import { api, ApiError, download, mediaURL, requireKey, root, saveJSON, streamEvents } from "./api.js";
import { $, ago, h, seconds, setStatus, STATUS_LABELS, when } from "./ui.js";
import { explain, isActive, normMovie, STAGE_LABELS, stageName } from "./movie.js";
import { characterItems, sceneItems, sceneLabel } from "./story.js";
import { reviewUpdate } from "./review.js";
import { renderQA } from "./qa.js";
import { castUpdate } from "./cast.js";

const id = document.body.dataset.movieId;
const path = `/api/movies/${encodeURIComponent(id)}`;
const els = {
  film: $("#film"), title: $("#film-title"), genre: $("#film-genre"), logline: $("#film-logline"),
  status: $("#film-status"), stages: $("#stages"), live: $("#progress-live"), elapsed: $("#elapsed"),
  storyboard: $("#storyboard"), sbEmpty: $("#storyboard-empty"), story: $("#story"),
  error: $("#film-error"), player: $("#player"), video: $("#video"), request: $("#request"),
};
let movie = null;
let stream = null;
let storyKey = "";
let playerReady = false;
const stageEls = new Map();
const lastStage = new Map(); // stage -> "status done/total", to announce changes only
const tiles = [];

// ------------------------------------------------------------------ loading

let refreshTimer = null;
let refreshing = false;
let leaving = false; // deleted: nothing more to read (a read now would be a 404)
function scheduleRefresh(ms = 250) {
  if (refreshTimer || leaving) return;
  refreshTimer = setTimeout(async () => {
    refreshTimer = null;
    if (refreshing) return scheduleRefresh(ms);
    refreshing = true;
    try {
      await load();
    } finally {
      refreshing = false;
    }
  }, ms);
}

async function load() {
  if (leaving) return;
  let raw;
  try {
    raw = await api(path);
  } catch (err) {
    if (err instanceof ApiError && err.status === 404) return missing();
    announce(err.message || "Could not load the film.");
    return scheduleRefresh(3000);
  }
  render(normMovie(raw));
}

function missing() {
  if (stream) stream.close();
  els.film.hidden = true;
  $("#film-missing").hidden = false;
  document.title = "Film not found · DeepFlix";
}

function follow() {
  if (stream || !movie || !isActive(movie)) return;
  stream = streamEvents(movie.urls.events || `${path}/events`, onEvent, {
    onOpen: () => scheduleRefresh(0), // catch up on what happened before we listened
    onError: (err) => {
      if (err.status === 404) missing();
      else scheduleRefresh(2000); // the stream is down: keep the page current by reading
    },
  });
}

function unfollow() {
  if (stream) stream.close();
  stream = null;
}

// the job system's event kinds after which the page should look at once
const PROMPT = new Set(["end", "story", "movie_done", "movie_failed", "movie_cancelled", "movie_retried", "stage_failed"]);

function onEvent({ event, data }) {
  if (data && typeof data === "object") {
    if (data.stages && data.status) return render(normMovie(data));
    applyEvent(event, data);
  }
  const drawn = event === "stage_done" && data && stageName(data.stage || "") === "picture";
  scheduleRefresh(PROMPT.has(event) || drawn ? 0 : 300);
}

// Apply what an event says before the re-read confirms it, so a picture or a
// count shows the moment it happens.
function applyEvent(event, d) {
  if (!movie) return;
  const stage = stageName(d.stage || "");
  const index = d.index ?? d.scene ?? d.scene_index;
  const extra = d.data && typeof d.data === "object" ? d.data : {};
  const url = d.url || d.picture_url || extra.url || extra.picture_url;
  // a drawn scene's picture without an address: the re-read (at once, see onEvent) brings its signed one.
  // An address made up here could name the picture of an earlier render, replayed by the stream while
  // a new render has not drawn it yet (a 404).
  if (stage === "picture" && index !== undefined && index !== null && url) {
    movie.pictures[Number(index)] = url;
    renderStoryboard();
  }
  if (d.story && d.story.scenes) {
    movie.story = d.story;
    renderStory();
  }
}

// ------------------------------------------------------------------ rendering

function render(m) {
  const was = movie;
  movie = m;
  els.film.setAttribute("aria-busy", "false");
  renderHead();
  renderError();
  renderStages();
  renderStory();
  renderStoryboard();
  renderRequest();
  if (m.status === "done" && was && was.status !== "done") playerReady = false; // a new cut: swap the player
  if (m.status === "done") renderPlayer();
  renderQA(m);
  reviewUpdate(m, { load });
  castUpdate(m, { load });
  if (isActive(m)) follow();
  else unfollow();
  if (was && was.status !== m.status) announce(`Film ${STATUS_LABELS[m.status] || m.status}.`);
}

function announce(text) {
  els.live.textContent = text;
}

function filmTitle() {
  if (movie.title) return movie.title;
  const p = movie.request.prompt || "";
  return p ? (p.length > 70 ? p.slice(0, 67) + "…" : p) : "Untitled film";
}

function renderHead() {
  const t = filmTitle();
  if (els.title.textContent !== t) els.title.textContent = t;
  document.title = `${t} · DeepFlix`;
  els.genre.textContent = [movie.request.genre, movie.story ? `${movie.story.scenes.length} scenes` : ""].filter(Boolean).join(" · ");
  els.logline.textContent = movie.logline || (!movie.story && isActive(movie) ? "The story is being written…" : "");
  els.status.textContent = STATUS_LABELS[movie.status] || movie.status;
  els.status.dataset.status = movie.status;
  $("#cancel-btn").hidden = !isActive(movie);
  // failed or cancelled films show their retry button in the error panel
  $("#retry-btn").hidden = true;
  $("#delete-btn").hidden = isActive(movie);
  tick();
}

function tick() {
  if (!movie) return;
  const start = movie.started || movie.created;
  const t0 = start ? Date.parse(/[zZ]|[+-]\d\d:?\d\d$/.test(start) ? start : start + "Z") : NaN;
  if (movie.status === "done" && movie.finished && !Number.isNaN(t0)) {
    const t1 = Date.parse(/[zZ]|[+-]\d\d:?\d\d$/.test(movie.finished) ? movie.finished : movie.finished + "Z");
    els.elapsed.textContent = `Made in ${seconds((t1 - t0) / 1000)}`;
  } else if (isActive(movie) && !Number.isNaN(t0)) {
    els.elapsed.textContent = `Started ${ago(start)} · ${seconds(Math.max(0, (Date.now() - t0) / 1000))} so far`;
  } else if (movie.finished) {
    els.elapsed.textContent = `${movie.status === "cancelled" ? "Cancelled" : "Stopped"} ${ago(movie.finished)}`;
  } else {
    els.elapsed.textContent = movie.created ? `Asked for ${when(movie.created)}` : "";
  }
}
setInterval(() => movie && isActive(movie) && tick(), 1000);

function stageText(s) {
  if (movie.status === "awaiting_review" && s.status !== "done") return "Held for review";
  if (s.status === "running" && !isActive(movie)) return s.done ? `Stopped · ${s.done} of ${s.total}` : "Stopped";
  if (s.status === "queued" && s.waiting) return isActive(movie) ? "Waiting" : "Not started";
  if (s.status === "cancelled") return s.done ? `Cancelled · ${s.done} of ${s.total}` : "Not started";
  const label = STATUS_LABELS[s.status] || s.status;
  const count = s.total && s.total > 1 ? `${s.done ?? 0} of ${s.total}` : "";
  if (s.status === "running" && count) return `${count} scenes`;
  if (s.status === "done") return s.seconds !== null ? `Done in ${seconds(s.seconds)}` : "Done";
  return count && s.status !== "queued" ? `${label} · ${count}` : label;
}

function renderStages() {
  for (const s of movie.stages) {
    let el = stageEls.get(s.name);
    if (!el) {
      const label = STAGE_LABELS[s.name] || s.name;
      const bar = h("span", { class: "bar__fill" });
      el = h("li", { class: "stage", dataset: { stage: s.name } },
        h("span", { class: "stage__icon", "aria-hidden": "true" }),
        h("span", { class: "stage__name" }, label),
        h("span", { class: "stage__state" }),
        h("span", { class: "bar", role: "progressbar", "aria-label": `${label} progress`, "aria-valuemin": 0, "aria-valuemax": 100 }, bar));
      els.stages.append(el);
      stageEls.set(s.name, el);
    }
    el.dataset.status = s.status === "running" && !isActive(movie) ? "stopped" : s.status;
    const pct = Math.round(s.progress * 100);
    const bar = el.querySelector(".bar");
    bar.setAttribute("aria-valuenow", String(pct));
    bar.setAttribute("aria-valuetext", stageText(s));
    bar.firstChild.style.width = `${pct}%`;
    el.querySelector(".stage__state").textContent = stageText(s);
    const sig = `${s.status} ${s.done}/${s.total}`;
    if (lastStage.has(s.name) && lastStage.get(s.name) !== sig) announce(`${STAGE_LABELS[s.name] || s.name}: ${stageText(s)}.`);
    lastStage.set(s.name, sig);
  }
}

function renderError() {
  const show = (movie.status === "failed" || movie.status === "cancelled") && (movie.error || movie.status === "cancelled");
  const wasHidden = els.error.hidden;
  els.error.hidden = !show;
  if (!show) return;
  const e = explain(movie.error || { message: "Cancelled." });
  $("#film-error-title").textContent = movie.status === "cancelled"
    ? "This film was cancelled"
    : `This film stopped${e.where ? ` at ${e.where}` : ""}`;
  $("#film-error-text").textContent = e.text;
  $("#film-error-hint").textContent = e.hint;
  if (wasHidden) els.error.scrollIntoView({ block: "nearest" });
}

function sceneCount() {
  if (movie.story) return movie.story.scenes.length;
  return Number(movie.request.num_sequences) || 0;
}

function pictureStage() {
  return movie.stages.find((s) => s.name === "picture");
}

function renderStoryboard() {
  // without a story there are no scenes to draw, unless one is on its way
  const n = movie.story || isActive(movie) ? sceneCount() : 0;
  els.sbEmpty.textContent = n || movie.story
    ? "The pictures appear here as each scene is drawn."
    : "No pictures: the story was not written. Retry to carry on.";
  const aspect = String(movie.request.aspect || "16:9").replace(":", "x");
  els.storyboard.dataset.aspect = aspect;
  if (tiles.length > n) {
    tiles.splice(n).forEach((t) => t.li.remove());
  }
  while (tiles.length < n) {
    const i = tiles.length;
    const fig = h("figure", { class: "tile", dataset: { state: "waiting" } },
      h("div", { class: "tile__frame" }, h("span", { class: "tile__num", "aria-hidden": "true" }, String(i + 1))),
      h("figcaption", {}, h("span", { class: "tile__label" }, `Scene ${i + 1}`), h("span", { class: "tile__state" }, "Waiting")));
    const li = h("li", {}, fig);
    els.storyboard.append(li);
    tiles.push({ li, fig, url: null });
  }
  els.sbEmpty.hidden = n > 0;
  const pic = pictureStage();
  const scenes = movie.story ? movie.story.scenes : [];
  tiles.forEach((t, i) => {
    const sc = scenes[i];
    t.fig.querySelector(".tile__label").textContent = sceneLabel(sc, i);
    const url = movie.pictures[i];
    if (url && t.url !== url) {
      t.url = url;
      t.fig.dataset.state = "loading";
      mediaURL(url).then((src) => {
        const alt = sc ? `Scene ${i + 1}: ${sc.scene_description}` : `Scene ${i + 1}`;
        const img = h("img", { src, alt, decoding: "async" });
        img.addEventListener("load", () => { t.fig.dataset.state = "drawn"; t.fig.querySelector(".tile__state").textContent = "Drawn"; });
        t.fig.querySelector(".tile__frame").replaceChildren(img);
      }, () => { t.url = null; t.fig.dataset.state = "waiting"; });
    } else if (!url && t.fig.dataset.state === "waiting") {
      const drawing = pic && pic.status === "running";
      t.fig.querySelector(".tile__state").textContent = drawing ? "Drawing…" : movie.status === "failed" ? "Not drawn" : "Waiting";
      t.fig.dataset.pending = drawing ? "true" : "false";
    }
  });
}

function renderStory() {
  const st = movie.story;
  if (!st) return;
  const key = JSON.stringify(st);
  if (key === storyKey) return;
  const first = !storyKey;
  storyKey = key;
  els.story.hidden = false;
  $("#characters").replaceChildren(...characterItems(st));
  $("#scenes").replaceChildren(...sceneItems(st));
  if (first) announce(`The story is written: ${st.title}.`);
}

function renderRequest() {
  if (els.request.childElementCount) return;
  const r = movie.request;
  const rows = [["Prompt", r.prompt], ["Genre", r.genre], ["Scenes", r.num_sequences], ["Aspect", r.aspect],
    ["Resolution", r.resolution], ["Seed", r.seed], ["Sampler", r.sampler], ["Steps", r.steps], ["CFG scale", r.cfg_scale],
    ["Providers", r.providers && Object.keys(r.providers).length ? Object.entries(r.providers).map(([k, v]) => `${k}: ${v}`).join(", ") : ""],
    ["Asked for", when(movie.created)]];
  els.request.replaceChildren(...rows.filter(([, v]) => v !== undefined && v !== null && v !== "")
    .flatMap(([k, v]) => [h("dt", {}, k), h("dd", {}, String(v))]));
}

function fileBase() {
  return (filmTitle().toLowerCase().replace(/[^a-z0-9]+/g, "-").replace(/^-|-$/g, "") || "film").slice(0, 48);
}

// a re-rendered film has the same addresses: the finish time keeps the browser off the old cut
const bust = (u) => `${u}${u.includes("?") ? "&" : "?"}v=${encodeURIComponent(movie.finished || "")}`;

async function renderPlayer() {
  if (playerReady || !movie.urls.video) return;
  playerReady = true;
  els.player.hidden = false;
  for (const b of document.querySelectorAll("[data-download]")) {
    b.hidden = b.dataset.download === "story" ? !movie.story && !movie.urls.story : !movie.urls[b.dataset.download];
  }
  const v = els.video;
  v.setAttribute("aria-label", `Play ${filmTitle()}`);
  try {
    const [src, poster, vtt] = await Promise.all([
      mediaURL(bust(movie.urls.video)),
      movie.urls.poster ? mediaURL(bust(movie.urls.poster)).catch(() => null) : null,
      movie.urls.vtt ? mediaURL(bust(movie.urls.vtt)).catch(() => null) : null,
    ]);
    if (poster) v.poster = poster;
    // off by default: the cut burns the subtitles into the picture; the track is for players that want text
    v.querySelectorAll("track").forEach((t) => t.remove());
    if (vtt) v.append(h("track", { kind: "subtitles", srclang: "en", label: "English", src: vtt }));
    v.src = src;
  } catch (err) {
    playerReady = false;
    els.player.hidden = true;
    announce(`The video could not be loaded: ${err.message}`);
  }
}

// ------------------------------------------------------------------ actions

async function act(verb, button) {
  button.disabled = true;
  try {
    await api(`${path}/${verb}`, { method: "POST" });
    announce(verb === "retry" ? "Retrying from where it stopped…" : "Cancelling…");
    if (verb === "retry") { els.error.hidden = true; $("#stages").scrollIntoView({ block: "nearest" }); }
    await load();
  } catch (err) {
    announce(err.message);
    alertBox(err.message);
  } finally {
    button.disabled = false;
  }
}

function alertBox(msg) {
  els.error.hidden = false;
  $("#film-error-title").textContent = "That did not work";
  $("#film-error-text").textContent = msg;
  $("#film-error-hint").textContent = "";
}

$("#cancel-btn").addEventListener("click", (e) => act("cancel", e.currentTarget));
$("#retry-btn").addEventListener("click", (e) => act("retry", e.currentTarget));
$("#error-retry-btn").addEventListener("click", (e) => act("retry", e.currentTarget));
$("#delete-btn").addEventListener("click", async (e) => {
  if (!confirm(`Delete “${filmTitle()}” and all its files? This cannot be undone.`)) return;
  const button = e.currentTarget;
  button.disabled = true;
  // stop listening and reading first, so nothing asks for the film once it is gone
  leaving = true;
  unfollow();
  clearTimeout(refreshTimer);
  refreshTimer = null;
  try {
    await api(path, { method: "DELETE" });
    location.assign(`${root}/films`);
  } catch (err) {
    leaving = false;
    button.disabled = false;
    follow();
    alertBox(err.message);
  }
});

for (const b of document.querySelectorAll("[data-download]")) {
  b.addEventListener("click", async () => {
    const kind = b.dataset.download;
    const ext = { video: "mp4", srt: "srt", vtt: "vtt", poster: "jpg", story: "json" }[kind];
    const status = $("#progress-live");
    try {
      if (kind === "story" && !movie.urls.story) return saveJSON(movie.story, `${fileBase()}.story.json`);
      setStatus(status, `Preparing ${ext.toUpperCase()}…`);
      await download(movie.urls[kind], kind === "story" ? `${fileBase()}.story.json` : `${fileBase()}.${ext}`);
      setStatus(status, `${ext.toUpperCase()} downloaded.`);
    } catch (err) {
      alertBox(`The ${ext.toUpperCase()} could not be downloaded: ${err.message}`);
    }
  });
}

// the timeline for an editor, zipped with its media (GET /api/movies/{id}/export)
$("#export-timeline").addEventListener("click", async () => {
  const fmt = $("#export-format").value;
  const status = $("#progress-live");
  try {
    setStatus(status, "Preparing the editor timeline…");
    await download(`${movie.urls.self}/export?format=${encodeURIComponent(fmt)}`, `${fileBase()}-${fmt}.zip`);
    setStatus(status, "Editor timeline downloaded.");
  } catch (err) {
    alertBox(`The editor timeline could not be downloaded: ${err.message}`);
  }
});

if (requireKey()) load();
