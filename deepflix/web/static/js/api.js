// Talking to the DeepFlix REST API with the signed-in user's key.
//
// The key is kept in sessionStorage (or localStorage when "remember me" was
// ticked) and sent as X-API-Key on every request. EventSource, <video src>
// and <img src> cannot send headers, so progress is read from a fetch()
// stream (streamEvents) and media are fetched with the key into blob: URLs
// (mediaURL), unless the API hands out signed URLs, which are used as they are.

const KEY = "deepflix.apiKey";
export const root = document.body.dataset.root || "";

export function getKey() {
  return sessionStorage.getItem(KEY) || localStorage.getItem(KEY) || "";
}

export function setKey(key, remember) {
  clearKey();
  (remember ? localStorage : sessionStorage).setItem(KEY, key);
}

export function clearKey() {
  sessionStorage.removeItem(KEY);
  localStorage.removeItem(KEY);
  for (const p of blobs.values()) p.then((u) => URL.revokeObjectURL(u), () => {});
  blobs.clear();
}

export function signinURL() {
  const here = location.pathname + location.search;
  return `${root}/signin?next=${encodeURIComponent(here)}`;
}

// Pages that need a key call this first; false means we are on our way to sign in.
export function requireKey() {
  if (getKey()) return true;
  location.replace(signinURL());
  return false;
}

export class ApiError extends Error {
  constructor(status, message, { fields = {}, retryAfter = null } = {}) {
    super(message);
    this.name = "ApiError";
    this.status = status;
    this.fields = fields; // form field name -> message, from a 422
    this.retryAfter = retryAfter;
  }
}

const FIELD_NAMES = { num_sequences: "Length in scenes", cfg_scale: "CFG scale" };

function fieldLabel(name) {
  return FIELD_NAMES[name] || String(name).replace(/_/g, " ").replace(/^./, (c) => c.toUpperCase());
}

// Any error response -> words a person can act on. FastAPI's 422 detail is a
// list of {loc, msg}; our own errors are {"detail": "..."}.
export async function errorFrom(res) {
  let body = null;
  try {
    body = await res.json();
  } catch {
    body = null;
  }
  const retryAfter = Number(res.headers.get("Retry-After")) || null;
  const detail = body && body.detail !== undefined ? body.detail : body && (body.error || body.message);
  const fields = {};
  let message = "";
  if (Array.isArray(detail)) {
    const parts = detail.map((d) => {
      const loc = (d.loc || []).filter((x) => x !== "body" && x !== "query" && typeof x === "string");
      const field = loc[loc.length - 1] || "";
      const msg = String(d.msg || "is not valid").replace(/^Value error, /, "");
      if (field) fields[field] = msg;
      return field ? `${fieldLabel(field)}: ${msg}` : msg;
    });
    message = parts.join(". ");
  } else if (typeof detail === "string") {
    message = detail;
  } else if (detail && typeof detail === "object") {
    message = detail.message || JSON.stringify(detail);
  }
  if (res.status === 429) {
    message = `Too many requests${message ? ` (${message})` : ""}. Try again${retryAfter ? ` in ${retryAfter} s` : " in a moment"}.`;
  } else if (res.status >= 500 && (!message || message === "internal error")) {
    message = "The server had a problem. Try again in a moment; if it keeps happening, tell an operator.";
  } else if (!message) {
    message = { 401: "Your key was not accepted.", 403: "Your key may not do that.", 404: "Not found." }[res.status]
      || `The server answered ${res.status}.`;
  }
  return new ApiError(res.status, message, { fields, retryAfter });
}

export function abs(url) {
  if (!url) return url;
  if (/^(https?:|blob:|data:)/.test(url)) return url;
  return root && !url.startsWith(root + "/") ? root + url : url;
}

function authHeaders(extra = {}) {
  return { "X-API-Key": getKey(), ...extra };
}

export async function api(path, { method = "GET", body, signal } = {}) {
  const headers = authHeaders({ Accept: "application/json" });
  if (body !== undefined) headers["Content-Type"] = "application/json";
  let res;
  try {
    res = await fetch(abs(path), {
      method,
      headers,
      body: body === undefined ? undefined : JSON.stringify(body),
      signal,
      cache: "no-store",
    });
  } catch (err) {
    if (err.name === "AbortError") throw err;
    throw new ApiError(0, "The server could not be reached. Check your connection and try again.");
  }
  if (res.status === 401) {
    location.assign(signinURL());
    throw new ApiError(401, "Your key was not accepted. Please sign in again.");
  }
  if (!res.ok) throw await errorFrom(res);
  if (res.status === 204) return null;
  const type = res.headers.get("content-type") || "";
  return type.includes("json") ? res.json() : res.text();
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

// Server-sent events over fetch(), so the key can go in a header. Reconnects
// with Last-Event-ID (and the server's retry: hint) until close() is called.
// onEvent({event, data, id}) gets data parsed as JSON when it is JSON.
export function streamEvents(path, onEvent, { onOpen, onError } = {}) {
  const ctl = new AbortController();
  let lastId = null;
  let retryMs = 1500;
  let stopped = false;

  function dispatch(ev) {
    if (!ev.data.length) return;
    const text = ev.data.join("\n");
    let data = text;
    try {
      data = JSON.parse(text);
    } catch {
      /* plain text event */
    }
    try {
      onEvent({ event: ev.event || "message", data, id: ev.id });
    } catch (err) {
      console.warn("event handler failed", err); // keep the stream alive
    }
  }

  async function readOnce() {
    const headers = authHeaders({ Accept: "text/event-stream" });
    if (lastId) headers["Last-Event-ID"] = lastId;
    const res = await fetch(abs(path), { headers, signal: ctl.signal, cache: "no-store" });
    if (res.status === 401) {
      stopped = true;
      location.assign(signinURL());
      return;
    }
    if (!res.ok) {
      const err = await errorFrom(res);
      if (res.status < 500 && res.status !== 429) stopped = true; // 404 and friends: no point retrying
      throw err;
    }
    if (onOpen) onOpen();
    const reader = res.body.pipeThrough(new TextDecoderStream()).getReader();
    let buf = "";
    let ev = { data: [], event: "", id: null };
    for (;;) {
      const { value, done } = await reader.read();
      if (done) return;
      buf += value;
      for (;;) {
        const m = /\r\n|\n|\r(?!$)/.exec(buf); // a lone \r at the end may be half of \r\n
        if (!m) break;
        const line = buf.slice(0, m.index);
        buf = buf.slice(m.index + m[0].length);
        if (line === "") {
          if (ev.id !== null) lastId = ev.id;
          dispatch(ev);
          ev = { data: [], event: "", id: null };
          continue;
        }
        if (line.startsWith(":")) continue; // keep-alive comment
        const colon = line.indexOf(":");
        const field = colon < 0 ? line : line.slice(0, colon);
        let val = colon < 0 ? "" : line.slice(colon + 1);
        if (val.startsWith(" ")) val = val.slice(1);
        if (field === "data") ev.data.push(val);
        else if (field === "event") ev.event = val;
        else if (field === "id") ev.id = val;
        else if (field === "retry" && /^\d+$/.test(val)) retryMs = Number(val);
      }
    }
  }

  (async () => {
    while (!stopped) {
      try {
        await readOnce();
      } catch (err) {
        if (ctl.signal.aborted) return;
        if (onError) onError(err);
      }
      if (!stopped) await sleep(retryMs);
    }
  })();

  return {
    close() {
      stopped = true;
      ctl.abort();
    },
  };
}

// A URL that <img>/<video>/<track> can load. Signed URLs (a token in the query)
// are used directly, so the browser can stream and seek; otherwise the file is
// fetched with the key into a blob: URL, cached per page.
const blobs = new Map();
const SIGNED = /[?&](token|sig|signature|X-Amz-Signature)=/i;

export function mediaURL(url) {
  if (!url) return Promise.resolve(null);
  if (SIGNED.test(url) || /^(blob:|data:)/.test(url)) return Promise.resolve(abs(url));
  if (!blobs.has(url)) {
    const p = fetch(abs(url), { headers: authHeaders(), cache: "no-store" }).then(async (res) => {
      if (!res.ok) throw await errorFrom(res);
      return URL.createObjectURL(await res.blob());
    });
    p.catch(() => blobs.delete(url));
    blobs.set(url, p);
  }
  return blobs.get(url);
}

export async function download(url, filename) {
  const href = await mediaURL(url);
  saveHref(href, filename);
}

export function saveHref(href, filename) {
  const a = document.createElement("a");
  a.href = href;
  a.download = filename;
  a.rel = "noopener";
  document.body.append(a);
  a.click();
  a.remove();
}

export function saveJSON(obj, filename) {
  const url = URL.createObjectURL(new Blob([JSON.stringify(obj, null, 2) + "\n"], { type: "application/json" }));
  saveHref(url, filename);
  setTimeout(() => URL.revokeObjectURL(url), 10000);
}
