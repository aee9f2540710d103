// Review before render on the film page: while a film is not being made, its
// story is edited in place (title, logline, voices, characters' traits, each
// scene's description, narration and dialogue), each storyboard picture has a
// Redraw button, and the Render button says what a render would remake (the
// API's dry run, GET .../render). Rendering keeps the old film on the page
// until the new one is done (film.js swaps the player then).

import { api } from "./api.js";
import { $, h } from "./ui.js";

const EDITABLE = new Set(["awaiting_review", "done", "failed", "cancelled"]);
const TRAITS = [["base_traits", "Looks"], ["facial_features", "Face"], ["clothing", "Wears"], ["distinctive_features", "Marks"]];

let current = null; // the movie as film.js last read it
let reload = () => {};
let formKey = ""; // the story the form was built from: rebuilt only when that changes and nothing is unsaved
let dirty = false;
let planSeq = 0;

const path = () => `/api/movies/${encodeURIComponent(current.id)}`;
const say = (text) => { $("#review-live").textContent = text; };

function field(id, label, value, { multiline = false, attrs = {} } = {}) {
  const input = multiline
    ? h("textarea", { id, rows: 2, ...attrs }, value || "")
    : h("input", { id, type: "text", value: value ?? "", ...attrs });
  if (multiline) input.rows = String(value || "").length > 90 ? 3 : 2;
  return h("div", { class: "field" }, h("label", { for: id }, label), input);
}

function voiceFields(prefix, who, voice) {
  return h("div", { class: "grid-2 voice" },
    field(`${prefix}-voice`, `${who}: voice`, voice.voice_id, { attrs: { maxlength: 200 } }),
    field(`${prefix}-pitch`, `${who}: pitch (semitones)`, String(voice.pitch_semitones ?? 0),
      { attrs: { type: "number", min: -12, max: 12, step: 0.5, inputmode: "decimal" } }));
}

function buildForm(st) {
  const names = Object.fromEntries((st.characters || []).map((c) => [c.id, c.name]));
  const chars = (st.characters || []).map((c, j) => h("fieldset", { class: "edit-group" },
    h("legend", {}, `${c.name} (${c.role || "character"})`),
    ...TRAITS.map(([k, label]) => field(`edit-char-${j}-${k}`, `${c.name}: ${label}`, c[k], { multiline: true })),
    voiceFields(`edit-char-${j}`, c.name, c.voice || {})));
  const scenes = st.scenes.map((s, i) => h("fieldset", { class: "edit-group" },
    h("legend", {}, `Scene ${i + 1}`),
    field(`edit-scene-${i}-description`, `Scene ${i + 1}: description`, s.scene_description, { multiline: true }),
    field(`edit-scene-${i}-narration`, `Scene ${i + 1}: narration`, s.narration, { multiline: true }),
    ...(s.dialogue || []).map((d, k) =>
      field(`edit-scene-${i}-line-${k}`, `Scene ${i + 1}: ${names[d.speaker] || d.speaker} says`, d.text, { multiline: true }))));
  $("#edit-fields").replaceChildren(
    field("edit-title", "Title", st.title, { attrs: { maxlength: 200, required: true } }),
    field("edit-logline", "Logline", st.logline, { multiline: true }),
    voiceFields("edit-narrator", "Narrator", st.narrator || {}),
    h("h3", {}, "Characters"), ...chars,
    h("h3", {}, "Scenes"), ...scenes);
}

function collect() {
  const st = structuredClone(current.story);
  const val = (id) => $(`#${id}`).value;
  const voice = (prefix, v) => ({ ...(v || {}), voice_id: val(`${prefix}-voice`).trim() || "default",
    pitch_semitones: Number(val(`${prefix}-pitch`)) || 0 });
  st.title = val("edit-title").trim();
  st.logline = val("edit-logline").trim();
  st.narrator = voice("edit-narrator", st.narrator);
  (st.characters || []).forEach((c, j) => {
    for (const [k] of TRAITS) c[k] = val(`edit-char-${j}-${k}`).trim();
    c.voice = voice(`edit-char-${j}`, c.voice);
  });
  st.scenes.forEach((s, i) => {
    s.scene_description = val(`edit-scene-${i}-description`).trim();
    s.narration = val(`edit-scene-${i}-narration`).trim();
    (s.dialogue || []).forEach((d, k) => { d.text = val(`edit-scene-${i}-line-${k}`).trim(); });
  });
  return st;
}

function showError(msg) {
  const box = $("#review-error");
  box.hidden = !msg;
  box.textContent = msg || "";
}

async function save() {
  const buttons = [$("#save-btn"), $("#save-btn-end")];
  buttons.forEach((b) => { b.disabled = true; });
  try {
    await api(`${path()}/story`, { method: "PUT", body: { story: collect(), note: "edited on the film page" } });
    dirty = false;
    formKey = "";
    showError("");
    say("Edits saved.");
    await reload();
  } catch (err) {
    showError(`The edits were not saved: ${err.message}`);
  } finally {
    buttons.forEach((b) => { b.disabled = false; });
  }
}

async function redraw(i, btn) {
  btn.disabled = true;
  try {
    await api(`${path()}/scenes/${i}/redraw`, { method: "POST", body: {} });
    btn.textContent = "Redraws at render";
    btn.dataset.pending = "true";
    say(`Scene ${i + 1} will be drawn anew at the next render.`);
    await refreshPlan();
  } catch (err) {
    showError(`Scene ${i + 1} cannot be redrawn: ${err.message}`);
  } finally {
    btn.disabled = false;
  }
}

async function refreshPlan() {
  const seq = ++planSeq;
  const btn = $("#render-btn");
  btn.disabled = true;
  $("#render-plan").textContent = "Working out what a render would remake…";
  try {
    const plan = await api(`${path()}/render`);
    if (seq !== planSeq) return;
    btn.dataset.summary = plan.summary;
    btn.textContent = `Render: ${plan.summary}`;
    const after = plan.rows.filter((r) => r.after).length;
    $("#render-plan").textContent = after
      ? `Remade: ${plan.summary} (${after} of them once the new outcomes they need are made).`
      : `Remade: ${plan.summary}. Everything else comes from the cache.`;
    btn.disabled = false;
  } catch (err) {
    if (seq === planSeq) $("#render-plan").textContent = `Could not work out the render: ${err.message}`;
  }
}

async function render() {
  const btn = $("#render-btn");
  btn.disabled = true;
  try {
    if (dirty) await save();
    await api(`${path()}/render`, { method: "POST" });
    say("Rendering. The film on this page stays until the new one is done.");
    await reload();
  } catch (err) {
    showError(`The render did not start: ${err.message}`);
    btn.disabled = false;
  }
}

function syncRedraw(editable) {
  document.querySelectorAll("#storyboard > li").forEach((li, i) => {
    let b = li.querySelector("[data-redraw]");
    if (!editable) { if (b) b.remove(); return; }
    if (!b) {
      b = h("button", { type: "button", class: "btn btn--ghost btn--sm", dataset: { redraw: String(i) },
        "aria-label": `Redraw scene ${i + 1}` }, "Redraw");
      b.addEventListener("click", () => redraw(i, b));
      li.querySelector("figcaption").append(b);
    }
  });
}

export function reviewUpdate(movie, { load }) {
  current = movie;
  reload = load;
  const editable = EDITABLE.has(movie.status) && !!movie.story;
  $("#review").hidden = !editable;
  $("#story").classList.toggle("story--editing", editable);
  syncRedraw(editable);
  if (!editable) { formKey = ""; dirty = false; return; }
  const key = JSON.stringify(movie.story) + JSON.stringify(movie.stages.map((s) => [s.name, s.status, s.done]));
  if (key !== formKey && !dirty) {
    formKey = key;
    buildForm(movie.story);
    $("#review-title").textContent = movie.status === "awaiting_review" ? "Review before render" : "Edit and render again";
    refreshPlan();
  }
}

const form = $("#review-form");
if (form) {
  form.addEventListener("input", () => { dirty = true; $("#render-plan").textContent = "Unsaved edits: save them to see what a render would remake."; });
  form.addEventListener("submit", (e) => { e.preventDefault(); save(); });
  $("#render-btn").addEventListener("click", render);
}
