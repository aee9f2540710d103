// My films: the caller's own movies, newest first, with posters and status.

import { api, mediaURL, requireKey, root } from "./api.js";
import { $, ago, badge, h } from "./ui.js";
import { isActive, normMovie } from "./movie.js";

const PAGE = 12;
const list = $("#film-list");
const status = $("#films-status");
const filter = $("#status-filter");
let offset = 0;
let timer = null;

function readList(res) {
  // {items, total} | {movies, total} | [..]
  const items = Array.isArray(res) ? res : res.items || res.movies || res.results || [];
  const total = Array.isArray(res) ? null : res.total ?? res.count ?? null;
  return { items: items.map(normMovie), total };
}

function card(m) {
  const title = m.title || m.request.prompt || "Untitled film";
  const poster = h("div", { class: "card__poster", dataset: { genre: m.request.genre || "" } },
    h("span", { class: "card__genre" }, m.request.genre || ""));
  if (m.urls.poster && m.status === "done") {
    mediaURL(m.urls.poster).then((src) => {
      poster.replaceChildren(h("img", { src, alt: "", loading: "lazy", decoding: "async" }));
    }, () => {});
  }
  const run = m.stages.find((s) => s.status === "running");
  const sub = isActive(m) && run ? `${run.name}${run.total > 1 ? ` ${run.done ?? 0}/${run.total}` : ""}` : ago(m.created);
  return h("li", { class: "card" },
    h("a", { href: `${root}/films/${encodeURIComponent(m.id)}`, class: "card__link" },
      poster,
      h("div", { class: "card__body" },
        h("h2", { class: "card__title" }, title),
        h("p", { class: "card__meta" }, badge(m.status), h("span", {}, sub)))));
}

async function load() {
  clearTimeout(timer);
  const q = new URLSearchParams({ limit: String(PAGE), offset: String(offset) });
  if (filter.value) q.set("status", filter.value);
  let res;
  try {
    res = readList(await api(`/api/movies?${q}`));
  } catch (err) {
    status.textContent = err.message;
    timer = setTimeout(load, 5000);
    return;
  }
  status.textContent = "";
  list.replaceChildren(...res.items.map(card));
  $("#films-empty").hidden = res.items.length > 0 || offset > 0;
  const more = res.total !== null ? offset + PAGE < res.total : res.items.length === PAGE;
  $("#pager").hidden = offset === 0 && !more;
  $("#prev-page").disabled = offset === 0;
  $("#next-page").disabled = !more;
  const total = res.total !== null ? ` of ${res.total}` : "";
  $("#page-label").textContent = res.items.length ? `${offset + 1}–${offset + res.items.length}${total}` : "";
  // films being made change under us: look again in a while
  if (res.items.some(isActive)) timer = setTimeout(load, 4000);
}

filter.addEventListener("change", () => {
  offset = 0;
  const u = new URL(location.href);
  if (filter.value) u.searchParams.set("status", filter.value);
  else u.searchParams.delete("status");
  history.replaceState(null, "", u);
  load();
});
$("#prev-page").addEventListener("click", () => { offset = Math.max(0, offset - PAGE); load(); });
$("#next-page").addEventListener("click", () => { offset += PAGE; load(); });

filter.value = new URLSearchParams(location.search).get("status") || "";
if (requireKey()) load();
