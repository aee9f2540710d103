// Small DOM helpers shared by the pages, and the header's sign-out button.

import { clearKey, getKey, root } from "./api.js";

// h("a", {href: "/x", class: "btn"}, "text", child) -> Element. Text is always
// set as text (never parsed as HTML), so values from the API cannot inject markup.
export function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === null || v === undefined || v === false) continue;
    if (k === "class") el.className = v;
    else if (k === "dataset") Object.assign(el.dataset, v);
    else if (k.startsWith("on") && typeof v === "function") el.addEventListener(k.slice(2), v);
    else if (k === "text") el.textContent = v;
    else el.setAttribute(k, v === true ? "" : String(v));
  }
  for (const c of children.flat()) {
    if (c === null || c === undefined || c === false) continue;
    el.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
  return el;
}

export const $ = (sel, el = document) => el.querySelector(sel);

export const STATUS_LABELS = {
  queued: "Queued",
  running: "Being made",
  awaiting_review: "Awaiting review",
  done: "Finished",
  failed: "Failed",
  cancelled: "Cancelled",
  pending: "Waiting",
  skipped: "Skipped",
};

// The API's status words -> the few the pages style.
export function normStatus(s) {
  s = String(s || "").toLowerCase();
  if (["completed", "complete", "succeeded", "success", "finished", "cached"].includes(s)) return "done";
  if (["canceled", "cancelling", "canceling"].includes(s)) return "cancelled";
  if (["started", "in_progress", "processing", "active", "retrying"].includes(s)) return "running";
  if (["waiting", "ready", "created", "new", "delayed", "scheduled"].includes(s)) return "queued";
  if (["error", "dead"].includes(s)) return "failed";
  return s || "queued";
}

export function badge(status) {
  const s = normStatus(status);
  return h("span", { class: "badge", dataset: { status: s } }, STATUS_LABELS[s] || s);
}

export function seconds(s) {
  if (s === null || s === undefined || Number.isNaN(Number(s))) return "";
  s = Number(s);
  if (s < 0.1) return `${Math.max(1, Math.round(s * 1000))} ms`;
  if (s < 10) return `${s.toFixed(1)} s`;
  if (s < 90) return `${Math.round(s)} s`;
  const m = Math.floor(s / 60);
  const r = Math.round(s % 60);
  return m < 60 ? `${m} min ${r} s` : `${Math.floor(m / 60)} h ${m % 60} min`;
}

export function parseTime(t) {
  if (t === null || t === undefined || t === "") return null;
  if (typeof t === "number") return new Date(t < 1e12 ? t * 1000 : t);
  // naive ISO times from the API are UTC
  const s = /[zZ]|[+-]\d\d:?\d\d$/.test(t) ? t : `${t}Z`;
  const d = new Date(s);
  return Number.isNaN(d.getTime()) ? null : d;
}

export function ago(t) {
  const d = parseTime(t);
  if (!d) return "";
  const s = Math.max(0, (Date.now() - d.getTime()) / 1000);
  if (s < 45) return "just now";
  if (s < 3600) return `${Math.round(s / 60)} min ago`;
  if (s < 86400) return `${Math.round(s / 3600)} h ago`;
  return d.toLocaleDateString(undefined, { day: "numeric", month: "short", year: "numeric" });
}

export function when(t) {
  const d = parseTime(t);
  return d ? d.toLocaleString(undefined, { dateStyle: "medium", timeStyle: "short" }) : "";
}

export function setStatus(el, text, kind = "") {
  el.textContent = text;
  el.dataset.kind = kind;
}

function initHeader() {
  const out = document.getElementById("signout");
  if (!out) return;
  out.hidden = !getKey();
  out.addEventListener("click", () => {
    clearKey();
    location.assign(`${root}/signin`);
  });
}

initHeader();
