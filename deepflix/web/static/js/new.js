// New film: the seed's request (prompt, genre, num_sequences, seed, sampler,
// steps, cfg_scale) plus the look (aspect, resolution) and, when chosen, a
// provider per stage. The API validates; its 422s land next to their fields.

import { api, ApiError, requireKey, root } from "./api.js";
import { $ } from "./ui.js";

const form = $("#new-film");
const formError = $("#form-error");
const status = $("#submit-status");
const submit = $("#submit");
const FIELDS = ["prompt", "genre", "num_sequences", "resolution", "seed", "sampler", "steps", "cfg_scale"];

function fieldError(name, msg) {
  const input = form.elements[name];
  const out = document.getElementById(`${name}-error`);
  if (!input || !out) return false;
  out.textContent = msg ? msg.charAt(0).toUpperCase() + msg.slice(1) : "";
  out.hidden = !msg;
  if (input.setAttribute) input.setAttribute("aria-invalid", msg ? "true" : "false");
  return true;
}

function clearErrors() {
  for (const f of FIELDS) fieldError(f, "");
  formError.hidden = true;
  formError.textContent = "";
}

function body() {
  const el = form.elements;
  const num = (name) => Number(el[name].value);
  const req = {
    prompt: el.prompt.value.trim(),
    genre: el.genre.value,
    num_sequences: num("num_sequences"),
    seed: num("seed"),
    sampler: el.sampler.value,
    steps: num("steps"),
    cfg_scale: num("cfg_scale"),
    aspect: form.querySelector('input[name="aspect"]:checked').value,
    resolution: el.resolution.value,
  };
  const providers = {};
  for (const sel of form.querySelectorAll("select[data-stage]")) {
    if (sel.value) providers[sel.dataset.stage] = sel.value;
  }
  if (Object.keys(providers).length) req.providers = providers;
  if (el.review && el.review.value) req.review = el.review.value; // stop for edits (review before render)
  return req;
}

// The browser's own checks first, in words, on the field itself.
function checkLocally() {
  let first = null;
  for (const name of FIELDS) {
    const input = form.elements[name];
    if (!input.checkValidity()) {
      let msg = input.validationMessage;
      if (name === "prompt" && !input.value.trim()) msg = "Write a prompt: a sentence or two about who, where and what happens.";
      fieldError(name, msg);
      first = first || input;
    }
  }
  if (!form.elements.prompt.value.trim() && !first) {
    fieldError("prompt", "Write a prompt: a sentence or two about who, where and what happens.");
    first = form.elements.prompt;
  }
  if (first) first.focus();
  return !first;
}

$("#seed-random").addEventListener("click", () => {
  const buf = new Uint32Array(1);
  crypto.getRandomValues(buf);
  form.elements.seed.value = String(buf[0] % 2147483647);
});

form.addEventListener("submit", async (e) => {
  e.preventDefault();
  clearErrors();
  if (!checkLocally()) return;
  submit.disabled = true;
  status.textContent = "Sending…";
  try {
    const res = await api("/api/movies", { method: "POST", body: body() });
    const id = res.id || res.movie_id || res.job_id;
    status.textContent = "Started. Opening the film…";
    location.assign(`${root}/films/${encodeURIComponent(id)}`);
  } catch (err) {
    submit.disabled = false;
    status.textContent = "";
    if (!(err instanceof ApiError)) throw err;
    let placed = null;
    let count = 0;
    for (const [name, msg] of Object.entries(err.fields)) {
      if (fieldError(name, msg)) {
        placed = placed || form.elements[name];
        count += 1;
      }
      if (name === "steps" || name === "cfg_scale" || name === "sampler") form.querySelector("details.advanced").open = true;
    }
    // errors that belong to a field are said there (and read out when it gets focus)
    formError.textContent = placed && count === Object.keys(err.fields).length
      ? `Please fix ${count === 1 ? "the field" : `the ${count} fields`} marked below.`
      : err.message;
    formError.hidden = false;
    (placed || formError).focus?.();
    if (!placed) formError.scrollIntoView({ block: "center" });
  }
});

requireKey();
