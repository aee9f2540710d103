// One shape for a movie as the pages use it, read from the API's answer.

import { normStatus } from "./ui.js";

// the server's film plan: [[name, label], ...] in order (the page's body data-stages)
const PLAN = (() => {
  try {
    return JSON.parse(document.body.dataset.stages || "[]");
  } catch {
    return [];
  }
})();
export const STAGE_ORDER = PLAN.map(([name]) => name);
export const STAGE_LABELS = Object.fromEntries(PLAN);
const STAGE_ALIASES = { image: "picture", images: "picture", pictures: "picture", voice: "speech", music: "score",
  video: "cut", segments: "segment" };

export function stageName(s) {
  s = String(s || "").toLowerCase();
  return STAGE_ALIASES[s] || s;
}

function num(v, d = null) {
  const n = Number(v);
  return v === null || v === undefined || v === "" || Number.isNaN(n) ? d : n;
}

function normStage(name, raw) {
  raw = raw || {};
  const total = num(raw.total ?? raw.total_count ?? raw.count, null);
  const done = num(raw.done ?? raw.completed ?? raw.finished ?? raw.done_count, null);
  let progress = num(raw.progress, null);
  if (progress !== null && progress > 1) progress /= 100;
  const rawStatus = String(raw.status || raw.state || "").toLowerCase();
  const status = normStatus(rawStatus);
  if (progress === null && total) progress = (done || 0) / total;
  if (progress === null) progress = status === "done" ? 1 : 0;
  return {
    name: stageName(name || raw.name || raw.stage),
    status,
    waiting: rawStatus === "waiting" || rawStatus === "ready" || rawStatus === "",
    total,
    done,
    progress: Math.max(0, Math.min(1, progress)),
    seconds: num(raw.seconds ?? raw.duration ?? raw.elapsed ?? raw.duration_s, null),
    error: errorOf(raw.error),
    attempts: num(raw.attempts, null),
  };
}

export function errorOf(e) {
  if (!e) return null;
  if (typeof e === "string") {
    // "picture (scene 3) failed: [picture scene 3] ...": the job system and the
    // runner each say where it happened; the page says it once, in words
    let msg = e;
    let stage = null;
    let scene = null;
    const outer = /^(\w+)(?: \(scene (\d+)\))? failed: /.exec(msg);
    if (outer) {
      [stage, scene] = [outer[1], outer[2] ? Number(outer[2]) - 1 : null];
      msg = msg.slice(outer[0].length);
    }
    const inner = /^\[(\w+)(?: scene (\d+))?\]\s*/.exec(msg);
    if (inner) {
      stage = stage || inner[1];
      if (scene === null && inner[2]) scene = Number(inner[2]) - 1;
      msg = msg.slice(inner[0].length);
    }
    return { message: msg, stage: stage && stageName(stage), scene };
  }
  return {
    message: e.message || e.detail || e.error || JSON.stringify(e),
    stage: e.stage ? stageName(e.stage) : null,
    scene: num(e.scene ?? e.scene_index ?? e.index, null),
    kind: e.kind || e.type || null,
  };
}

function pictureList(raw) {
  const out = [];
  // artifacts: {"picture_0": url, ...} (files ready now)
  for (const [k, v] of Object.entries(raw.artifacts || {})) {
    const m = /^(?:picture|pictures|scene)[_/.-]?(\d+)$/.exec(k);
    if (m && v) out[Number(m[1])] = typeof v === "string" ? v : v.url;
  }
  const arr = raw.pictures || raw.storyboard || (raw.urls && raw.urls.pictures) || (raw.artifacts && raw.artifacts.pictures);
  if (Array.isArray(arr)) {
    arr.forEach((p, i) => {
      if (!p) return;
      if (typeof p === "string") out[i] = p;
      else if (p.url || p.href) out[num(p.index ?? p.scene ?? p.scene_index, i)] = p.url || p.href;
    });
  } else if (arr && typeof arr === "object") {
    for (const [k, v] of Object.entries(arr)) if (v) out[Number(k)] = typeof v === "string" ? v : v.url;
  }
  return out;
}

export function normMovie(raw) {
  const req = { ...(raw.request || raw.params || {}) };
  for (const k of ["prompt", "genre", "num_sequences", "seed", "sampler", "steps", "cfg_scale", "aspect", "resolution", "providers"]) {
    if (req[k] === undefined && raw[k] !== undefined) req[k] = raw[k];
  }
  const urls = { ...(raw.artifacts || {}), ...(raw.links || {}), ...(raw.urls || {}) };
  urls.srt = urls.srt || urls.subtitles_srt;
  urls.vtt = urls.vtt || urls.subtitles_vtt;
  for (const k of ["video", "srt", "vtt", "poster", "story", "events"]) {
    const alt = raw[`${k}_url`];
    if (!urls[k] && alt) urls[k] = alt;
    if (urls[k] && typeof urls[k] === "object") urls[k] = urls[k].url || urls[k].href || null;
  }
  let stages = [];
  if (Array.isArray(raw.stages)) stages = raw.stages.map((s) => normStage(s.name || s.stage, s));
  else if (raw.stages && typeof raw.stages === "object") stages = Object.entries(raw.stages).map(([k, v]) => normStage(k, v));
  stages.sort((a, b) => (STAGE_ORDER.indexOf(a.name) + 99) % 99 - (STAGE_ORDER.indexOf(b.name) + 99) % 99);
  const story = raw.story && raw.story.scenes ? raw.story : null;
  return {
    id: String(raw.id ?? raw.movie_id ?? ""),
    status: normStatus(raw.status || raw.state),
    title: (story && story.title) || raw.title || "",
    logline: (story && story.logline) || raw.logline || "",
    request: req,
    stages,
    story,
    urls,
    pictures: pictureList(raw),
    cast: Array.isArray(raw.cast) ? raw.cast : [], // [{id, name, role, portrait (signed URL or null), user}]
    error: errorOf(raw.error),
    created: raw.created_at || raw.created || null,
    started: raw.started_at || null,
    finished: raw.finished_at || raw.completed_at || null,
    owner: raw.owner || raw.user || raw.user_id || null,
    duration: num(raw.duration ?? (raw.video && raw.video.duration), null),
    qa: raw.qa || null, // the QA checks in short (qa.js)
  };
}

export const isActive = (m) => m.status === "queued" || m.status === "running";

// The error, in words a person can act on: what happened, then what to do.
export function explain(err) {
  if (!err) return null;
  const msg = err.message || "";
  const where = err.stage
    ? `${STAGE_LABELS[err.stage] || err.stage}${err.scene !== null && err.scene !== undefined ? `, scene ${err.scene + 1}` : ""}`
    : "";
  let hint = "Press Retry: finished work is kept, and the film goes on from where it stopped.";
  if (/_API_KEY|api key|needs a key/i.test(msg)) {
    hint = "The server is missing an API key (named above). Ask an operator to set it, then press Retry.";
  } else if (/timed? ?out|did not answer|unavailable|unreachable|refused|connection|try again|429|503|rate limit/i.test(msg)) {
    hint = "A service it needs did not answer. This is often temporary: press Retry in a minute. If it keeps failing, tell an operator (the setting to check is named above).";
  } else if (/_URL\b|not set|setting/i.test(msg)) {
    hint = "A setting on the server is wrong (named above). Ask an operator to fix it, then press Retry.";
  } else if (/cancel/i.test(msg)) {
    hint = "The film was cancelled. Press Retry to carry on from what was already made.";
  } else if (/invalid|not valid|must|unknown/i.test(msg)) {
    hint = "Something in the request could not be used. Retry may not help: try a new film with a different prompt or settings.";
  }
  const text = msg.replace(/^\[[^\]]+\]\s*/, ""); // the "[picture scene 3]" prefix is said in words instead
  return { where, text, hint };
}
