// The story as a person reads it: characters with their traits, then the scenes.

import { h } from "./ui.js";

const where = (s) => s.location || String(s.setting || "").replace(/_/g, " ");

export function characterItems(story) {
  return (story.characters || []).map((c) =>
    h("li", { class: "character" },
      h("h4", {}, c.name, h("span", { class: "character__role" }, c.role || "")),
      h("dl", { class: "traits" },
        ...[["Looks", c.base_traits], ["Face", c.facial_features], ["Wears", c.clothing], ["Marks", c.distinctive_features]]
          .filter(([, v]) => v)
          .flatMap(([k, v]) => [h("dt", {}, k), h("dd", {}, v)]))));
}

export function sceneItems(story) {
  const names = Object.fromEntries((story.characters || []).map((c) => [c.id, c.name]));
  return story.scenes.map((s, i) =>
    h("li", { class: "scene" },
      h("p", { class: "scene__meta" }, [`Scene ${i + 1}`, where(s), s.time_of_day, s.weather && s.weather !== "clear" ? s.weather : "",
        s.shot && `${s.shot.replace(/_/g, " ")} shot`].filter(Boolean).join(" · ")),
      h("p", { class: "scene__desc" }, s.scene_description),
      s.narration ? h("p", { class: "scene__narration" }, s.narration) : null,
      s.dialogue && s.dialogue.length
        ? h("ul", { class: "scene__dialogue" }, ...s.dialogue.map((d) => h("li", {}, h("b", {}, `${names[d.speaker] || d.speaker}: `), d.text)))
        : null));
}

export function sceneLabel(s, i) {
  return s ? `Scene ${i + 1} · ${where(s)}` : `Scene ${i + 1}`;
}
