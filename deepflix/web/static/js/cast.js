// The cast on the film page (templates/film_cast.html): each character's portrait
// and name, and per character a button that sends a picture of one's own
// (PUT /api/movies/{id}/cast/{character}, multipart field "portrait"). The film is
// then made again, only that character's scenes; the new portrait shows once the
// cast stage has made it (its URL changes with its key).

import { abs, errorFrom, getKey, mediaURL, signinURL } from "./api.js";
import { $, h } from "./ui.js";

const EDITABLE = new Set(["awaiting_review", "done", "failed", "cancelled"]);
const TYPES = ["image/png", "image/jpeg", "image/webp"];

let current = null; // the movie as film.js last read it
let reload = () => {};
const cards = new Map(); // character id -> {li, fig, frame, state, button, input, url}

const say = (text) => { $("#cast-live").textContent = text; };

function showError(msg) {
  const box = $("#cast-error");
  box.hidden = !msg;
  box.textContent = msg || "";
}

async function upload(c, file, button) {
  if (!TYPES.includes(file.type)) {
    showError(`${file.name} is not a PNG, JPEG or WebP image: choose one of those for ${c.name}.`);
    return;
  }
  showError("");
  button.disabled = true;
  say(`Sending the portrait of ${c.name}…`);
  try {
    const body = new FormData();
    body.append("portrait", file, file.name);
    const res = await fetch(abs(`/api/movies/${encodeURIComponent(current.id)}/cast/${encodeURIComponent(c.id)}`), {
      method: "PUT", headers: { "X-API-Key": getKey(), Accept: "application/json" }, body, cache: "no-store",
    });
    if (res.status === 401) { location.assign(signinURL()); return; }
    if (!res.ok) throw await errorFrom(res);
    cards.get(c.id).fig.dataset.state = "replacing";
    say(res.status === 202
      ? `The portrait of ${c.name} is in. Their scenes are being made again; the film on this page stays until then.`
      : `The portrait of ${c.name} is in. It is used when you render.`);
    await reload();
  } catch (err) {
    showError(`The portrait of ${c.name} was not changed: ${err.message}`);
  } finally {
    button.disabled = !EDITABLE.has(current.status);
  }
}

function card(c) {
  const input = h("input", { type: "file", accept: TYPES.join(","), hidden: true, id: `cast-file-${c.id}` });
  const button = h("button", { type: "button", class: "btn btn--ghost btn--sm", dataset: { castUpload: c.id },
    "aria-label": `Replace the portrait of ${c.name}`, "aria-describedby": "cast-note" }, "Replace portrait");
  button.addEventListener("click", () => input.click());
  input.addEventListener("change", () => {
    const file = input.files && input.files[0];
    input.value = ""; // the same file twice is a second upload
    if (file) upload(c, file, button);
  });
  const frame = h("div", { class: "cast__frame" });
  const state = h("span", { class: "cast__state" });
  const fig = h("figure", { class: "cast__card", dataset: { character: c.id, state: "waiting" } },
    frame,
    h("figcaption", {},
      h("span", { class: "cast__name" }, c.name),
      h("span", { class: "cast__role" }, c.role || ""),
      state, button, input));
  const li = h("li", {}, fig);
  return { li, fig, frame, state, button, input, url: null };
}

function show(c, k) {
  k.fig.querySelector(".cast__name").textContent = c.name; // (a name edited in review)
  k.fig.querySelector(".cast__role").textContent = c.role || "";
  k.button.setAttribute("aria-label", `Replace the portrait of ${c.name}`);
  const active = current.status === "queued" || current.status === "running";
  k.button.disabled = !EDITABLE.has(current.status);
  k.button.title = k.button.disabled ? "You can replace a portrait once the film is no longer being made." : "";
  if (!c.portrait) {
    if (k.url) return; // the old portrait stays on show while the new one is made
    k.state.textContent = active ? "Being drawn…" : "Not drawn";
    return;
  }
  k.state.textContent = c.user ? "Your portrait" : "";
  if (c.portrait === k.url) return;
  k.url = c.portrait;
  mediaURL(c.portrait).then((src) => {
    const img = h("img", { src, alt: `Portrait of ${c.name}`, decoding: "async" });
    img.addEventListener("load", () => { k.fig.dataset.state = c.user ? "user" : "drawn"; });
    k.frame.replaceChildren(img);
  }, () => { k.url = null; });
}

export function castUpdate(movie, { load }) {
  current = movie;
  reload = load;
  const cast = movie.cast || [];
  $("#cast").hidden = cast.length === 0;
  const ids = new Set(cast.map((c) => c.id));
  for (const [id, k] of cards) if (!ids.has(id)) { k.li.remove(); cards.delete(id); }
  const list = $("#cast-list");
  cast.forEach((c, i) => {
    let k = cards.get(c.id);
    if (!k) { k = card(c); cards.set(c.id, k); }
    // in the story's order; moved only when out of place (moving a card would take the focus off its button)
    if (list.children[i] !== k.li) list.insertBefore(k.li, list.children[i] || null);
    show(c, k);
  });
}
