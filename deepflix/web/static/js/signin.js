// Sign in: check the key against the API, keep it, go where the user was going.

import { ApiError, errorFrom, root, setKey } from "./api.js";
import { $ } from "./ui.js";

const form = $("#signin-form");
const input = $("#api-key");
const error = $("#api-key-error");
const status = $("#signin-status");

// Only a path on this site, never an open redirect: browsers read "/\\host" and "/<tab>/host"
// as "//host", so a backslash or a control character anywhere refuses the address, and what
// is left must resolve to this origin.
function nextPage() {
  const next = new URLSearchParams(location.search).get("next") || "";
  const home = `${root}/films`;
  if (!next.startsWith("/") || /[\\\u0000-\u001f\u007f]/.test(next)) return home;
  try {
    const url = new URL(next, location.origin);
    return url.origin === location.origin ? url.pathname + url.search + url.hash : home;
  } catch {
    return home;
  }
}

function showError(msg) {
  error.textContent = msg;
  error.hidden = !msg;
  input.setAttribute("aria-invalid", msg ? "true" : "false");
}

form.addEventListener("submit", async (e) => {
  e.preventDefault();
  const key = input.value.trim();
  showError("");
  if (!key) {
    showError("Enter your API key.");
    input.focus();
    return;
  }
  status.textContent = "Checking your key…";
  try {
    // any call that needs a key will do; listing one film is the cheapest
    const res = await fetch(`${root}/api/movies?limit=1`, { headers: { "X-API-Key": key }, cache: "no-store" });
    if (res.status === 401 || res.status === 403) throw new ApiError(res.status, "That key was not accepted. Check it and try again.");
    if (!res.ok) throw await errorFrom(res);
  } catch (err) {
    status.textContent = "";
    showError(err instanceof ApiError ? err.message : "The server could not be reached. Try again.");
    input.focus();
    return;
  }
  setKey(key, $("#remember").checked);
  status.textContent = "Signed in.";
  location.assign(nextPage());
});

input.focus();
