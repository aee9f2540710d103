"""Helpers for the browser tests: start the gateway, sign in, record what a film
page shows over time, take screenshots, run axe-core, collect console errors."""

from __future__ import annotations

import os
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from starlette.routing import NoMatchFound

CHROMIUM = "/usr/bin/chromium"
ROOT = Path(__file__).resolve().parents[2]
SHOTS = Path(os.environ.get("DEEPFLIX_WEB_SHOTS") or ROOT / "test-results" / "web")


@dataclass
class Gateway:
    base_url: str
    keys: dict[str, str] = field(default_factory=dict)

    def auth(self, user: str) -> dict[str, str]:
        return {"X-API-Key": self.keys[user]}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextmanager
def serve(app: Any) -> Iterator[str]:
    """uvicorn on 127.0.0.1 in a thread, for as long as the block runs."""
    import uvicorn

    port = free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", lifespan="on"))
    thread = threading.Thread(target=server.run, name="uvicorn", daemon=True)
    thread.start()
    deadline = time.monotonic() + 60
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            raise RuntimeError("the gateway did not start")
        time.sleep(0.05)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(30)


@contextmanager
def _env(**values: str | None) -> Iterator[None]:
    old = {k: os.environ.get(k) for k in values}
    os.environ.update({k: v for k, v in values.items() if v is not None})
    for k in (k for k, v in values.items() if v is None):
        os.environ.pop(k, None)
    try:
        yield
    finally:
        os.environ.update({k: v for k, v in old.items() if v is not None})
        for k in (k for k, v in old.items() if v is None):
            os.environ.pop(k, None)


@contextmanager
def start_gateway(data_dir: Path) -> Iterator[Gateway]:
    """The real service, as `deepflix serve` runs it: the gateway app with the web
    pages, the job system in this process (a private Redis, worker threads, the
    reconciler), SQLite and artifacts in ``data_dir``; keys for alice, bob and an admin."""
    from deepflix import db
    from deepflix.api.main import create_app
    from deepflix.api.settings import ApiSettings
    from deepflix.core import config
    from deepflix.jobs.worker import start_services
    from deepflix.security import keys
    from deepflix.web import router as web_router

    with _env(DEEPFLIX_DATA_DIR=str(data_dir), DATABASE_URL=f"sqlite:///{data_dir / 'deepflix.db'}",
              REDIS_URL=None, DEEPFLIX_SECRET_KEY="web-test-pepper", DEEPFLIX_RETRIES="0",
              ANTHROPIC_API_KEY=None):  # the failed-film test relies on the key being absent
        config.reload_settings()
        keys.forget_cached_keys()
        services = start_services(threads=2)
        try:
            with db.session_scope() as s:
                made = {u: keys.create_key(s, u)[0] for u in ("alice", "bob", "carol")}
                made["admin"] = keys.create_key(s, "ops", role="admin")[0]
            app = create_app(ApiSettings(
                deepflix_rate_per_minute=60_000.0, deepflix_rate_burst=10_000, deepflix_max_concurrent_jobs=100,
                deepflix_films_per_day=1000, deepflix_sse_poll_seconds=0.1,
                deepflix_user_providers="story=*",  # the pages offer every story provider (one test picks a keyless one)
            ))
            try:
                app.url_path_for("my_films")
            except NoMatchFound:
                app.include_router(web_router)  # until create_app mounts the pages itself
            with serve(app) as url:
                yield Gateway(url, made)
        finally:
            services.stop()
            keys.forget_cached_keys()
    config.reload_settings()


@contextmanager
def chromium() -> Iterator[Any]:
    """Debian's Chromium, headless, driven by Playwright."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=[
            "--headless=new", "--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking",
            "--disable-component-update", "--disable-sync"])
        try:
            yield b
        finally:
            b.close()


def sse_events(gw: Gateway, user: str, movie_id: str, seconds: float = 60.0) -> list[str]:
    """The event types of a film's progress stream, read until it ends (the film is over)."""
    import httpx

    kinds: list[str] = []
    with httpx.stream("GET", f"{gw.base_url}/api/movies/{movie_id}/events", headers=gw.auth(user),
                      timeout=seconds) as r:
        for line in r.iter_lines():
            if line.startswith("event: "):
                kinds.append(line[7:])
                if kinds[-1] == "end":
                    break
    return kinds


@contextmanager
def explained(page: Any, gw: Gateway, user: str, movie_id: str) -> Iterator[None]:
    """When a wait on the page times out, fail with what the API says about the film
    (its status, each stage, the error) and a screenshot, not just a selector."""
    from playwright.sync_api import TimeoutError as PageTimeout

    try:
        yield
    except PageTimeout as exc:
        import httpx

        shoot(page, "timed-out", page.viewport_size)
        m = httpx.get(f"{gw.base_url}/api/movies/{movie_id}", headers=gw.auth(user), timeout=30).json()
        stages = [(s["name"], s["status"], f"{s['done']}/{s['total']}", s["attempts"], s["error"]) for s in m["stages"]]
        raise AssertionError(f"{exc.message.splitlines()[0]}; the film is {m['status']}: {stages} {m['error']}") from None


class Console:
    """Errors the page reported: console.error, failed resource loads, uncaught exceptions."""

    def __init__(self, page: Any) -> None:
        self.errors: list[str] = []
        self.warnings: list[str] = []
        page.on("console", self._on_console)
        page.on("pageerror", lambda exc: self.errors.append(f"uncaught: {exc}"))

    def _on_console(self, msg: Any) -> None:
        if msg.type == "error":  # with the failing resource's address, when there is one
            url = (msg.location or {}).get("url", "")
            self.errors.append(f"{msg.text} [{url}]" if url else msg.text)
        elif msg.type == "warning":
            self.warnings.append(msg.text)


def sign_in(page: Any, base_url: str, key: str, dest: str) -> None:
    page.goto(f"{base_url}/signin?next={dest}")
    page.fill("#api-key", key)
    page.click("#signin-form button[type=submit]")
    page.wait_for_url(f"{base_url}{dest}")


def shoot(page: Any, name: str, viewport: dict[str, int]) -> Path:
    SHOTS.mkdir(parents=True, exist_ok=True)
    path = SHOTS / f"{name}-{viewport['width']}.png"
    page.evaluate("window.scrollTo(0, 0)")
    page.screenshot(path=str(path), full_page=True, animations="disabled")
    return path


def no_horizontal_scroll(page: Any) -> bool:
    """Nothing wider than the device: on a phone the browser would otherwise widen the
    layout viewport to fit (innerWidth grows too), so compare with the device's width."""
    width = page.viewport_size["width"]
    return bool(page.evaluate(f"document.documentElement.scrollWidth <= {width} && window.innerWidth <= {width}"))


def axe_violations(page: Any) -> list[str]:
    from axe_playwright_python.sync_playwright import Axe

    res = Axe().run(page)
    return [
        f"{v['id']} ({v.get('impact')}): {[n['target'] for n in v['nodes']][:3]}"
        for v in res.response["violations"]
    ]


def film_recorder_js() -> str:
    """An init script: on a film page, log each change of what the page shows
    (each stage's status and bar, pictures in the storyboard, the film's status)
    into window.__filmLog, so a test can check what a person saw, in order."""
    return """
    window.__filmLog = [];
    document.addEventListener("DOMContentLoaded", () => {
      if (document.body.dataset.page !== "film") return;
      const t0 = performance.now();
      let last = "";
      const snap = () => {
        const stages = {};
        for (const li of document.querySelectorAll("#stages .stage")) {
          stages[li.dataset.stage] = li.dataset.status + ":" + li.querySelector(".bar").getAttribute("aria-valuenow");
        }
        const imgs = [...document.querySelectorAll("#storyboard img")].filter((i) => i.src).length;
        const status = document.querySelector("#film-status").dataset.status;
        const key = JSON.stringify([stages, imgs, status]);
        if (key !== last) {
          last = key;
          window.__filmLog.push({ t: Math.round(performance.now() - t0), stages, imgs, status });
        }
      };
      new MutationObserver(snap).observe(document.body, {
        subtree: true, childList: true, attributes: true, attributeFilter: ["data-status", "aria-valuenow", "src"],
      });
      snap();
    });
    """
