// The film's QA report on its page (deepflix/quality/qa.py): each check, pass or fail, with
// the value it measured and what passes. The movie's status carries this short form as `qa`;
// the button saves the whole report (GET /api/movies/{id}/qa: stretches, lines, findings).

import { download } from "./api.js";
import { $, h } from "./ui.js";

const LABELS = {
  loudness: "Loudness", true_peak: "True peak", av_start_offset: "Audio/video start offset",
  black: "Black stretches", frozen: "Frozen stretches", near_silent: "Near-silent stretches",
  subtitle_rules: "Subtitle rules", story_consistency: "Story consistency",
  speech_wer: "Speech heard against the subtitles (word error rate)", subtitle_speech_offset: "Subtitle start to first spoken word",
};
const UNITS = {
  loudness: " LUFS", true_peak: " dBTP", av_start_offset: " s", black: " s longest", frozen: " s longest",
  near_silent: " s longest", subtitle_rules: " broken", story_consistency: " found", subtitle_speech_offset: " s median",
};

let shown = "";

function value(c) {
  if (c.value === null || c.value === undefined) return "not measured";
  return `${c.value}${UNITS[c.name] || ""}`;
}

export function renderQA(movie) {
  const qa = movie.qa;
  const section = $("#qa");
  const key = qa ? JSON.stringify(qa) : "";
  if (key === shown) return;
  shown = key;
  section.hidden = !qa;
  if (!qa) return;
  const failed = qa.checks.filter((c) => !c.passed).length;
  $("#qa-verdict").textContent = qa.passed === null
    ? `Not measured: ${qa.error || "unknown reason"}`
    : failed ? `${failed} of ${qa.checks.length} checks failed` : `All ${qa.checks.length} checks passed`;
  $("#qa-checks").replaceChildren(...qa.checks.map((c) =>
    h("li", { class: "qa-check", dataset: { passed: String(c.passed) } },
      h("span", { class: "qa-check__mark", "aria-hidden": "true" }, c.passed ? "✓" : "✗"),
      h("span", { class: "qa-check__name" }, LABELS[c.name] || c.name.replace(/_/g, " ")),
      h("span", { class: "qa-check__verdict" }, c.passed ? "Pass" : "Fail"),
      h("span", { class: "qa-check__value" }, value(c)),
      h("span", { class: "qa-check__threshold muted" }, `needs ${c.threshold}`))));
  const button = $("#qa-report");
  button.hidden = !movie.urls.qa;
  button.dataset.url = movie.urls.qa || "";
  button.dataset.name = `${movie.id}-qa.json`;
}

$("#qa-report").addEventListener("click", async (e) => {
  const { url, name } = e.currentTarget.dataset;
  if (url) await download(url, name);
});
