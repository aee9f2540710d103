"""End-to-end: the web pages in Debian's Chromium, driven by Playwright, against
the real gateway (uvicorn on 127.0.0.1, in-process workers, a temp data dir).

A person signs in, makes a small film, watches the stages progress and the
storyboard fill, plays the finished video, downloads the subtitles; a second
person cannot see it; an operator sees it on the queue board. Every page is
screenshot at 1280 and 390 px wide (test-results/web/, or $DEEPFLIX_WEB_SHOTS)
and checked with axe-core, and the browser console must stay free of errors.

CI needs the browser from Debian: ``apt-get install -y chromium``.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from web_harness import (
    CHROMIUM,
    Console,
    Gateway,
    axe_violations,
    explained,
    film_recorder_js,
    no_horizontal_scroll,
    shoot,
    sign_in,
    sse_events,
    start_gateway,
)

pytestmark = pytest.mark.skipif(not Path(CHROMIUM).exists(), reason=f"{CHROMIUM} is absent: apt-get install -y chromium")

WIDE = {"width": 1280, "height": 900}
PHONE = {"width": 390, "height": 844}


@pytest.fixture(scope="module")
def gateway(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Gateway]:
    with start_gateway(tmp_path_factory.mktemp("web-gateway")) as gw:
        yield gw


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(
            executable_path=CHROMIUM,
            args=["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                  "--disable-background-networking", "--disable-component-update", "--disable-sync",
                  "--autoplay-policy=no-user-gesture-required"],
        )
        yield b
        b.close()


@pytest.fixture(scope="module")
def film(gateway: Gateway, browser: Any) -> dict[str, Any]:
    """Alice makes a 2-scene 360p film through the pages; what the page showed on the way is kept."""
    ctx = browser.new_context(viewport=WIDE, accept_downloads=True)
    ctx.add_init_script(film_recorder_js())
    page = ctx.new_page()
    console = Console(page)
    page.goto(gateway.base_url + "/signin")
    shoot(page, "signin", WIDE)
    sign_in(page, gateway.base_url, gateway.keys["alice"], "/films")
    page.wait_for_selector("#films-empty:not([hidden])")
    shoot(page, "films-empty", WIDE)
    page.goto(gateway.base_url + "/")
    page.fill("#prompt", "A lighthouse keeper finds a letter in a bottle, written tomorrow.")
    page.select_option("#genre", "drama")
    page.fill("#num_sequences", "2")
    page.select_option("#resolution", "360p")
    page.fill("#seed", "7")
    page.click("details.advanced summary")
    shoot(page, "new-film", WIDE)
    page.click("#submit")
    page.wait_for_url(re.compile(r".*/films/[A-Za-z0-9_-]+$"))
    movie_id = page.url.rstrip("/").rsplit("/", 1)[-1]
    with explained(page, gateway, "alice", movie_id):
        page.wait_for_selector("#story:not([hidden])", timeout=90_000)
        shoot(page, "film-in-progress", WIDE)
        page.wait_for_selector('#film-status[data-status="done"]', timeout=240_000)
    page.wait_for_selector("#player:not([hidden])")
    log = page.evaluate("window.__filmLog")
    return {"ctx": ctx, "page": page, "console": console, "id": movie_id, "log": log}


def test_stages_progress_live_and_storyboard_fills(film: dict[str, Any]) -> None:
    log = film["log"]
    assert len(log) >= 4, log
    statuses = [e["status"] for e in log]
    assert statuses[-1] == "done" and {"queued", "running"} & set(statuses[:-1]), statuses
    final = log[-1]["stages"]
    assert set(final) >= {"story", "picture", "speech", "score", "cut"}, final
    assert all(v.split(":") == ["done", "100"] for v in final.values()), final
    # the page showed the stages move while it was open: seen unfinished, then finished, bars only forward
    moved = []
    for stage in final:
        seen = [e["stages"][stage] for e in log if stage in e["stages"]]
        bars = [int(v.split(":")[1]) for v in seen]
        assert bars == sorted(bars), f"{stage} progress went back: {seen}"
        if seen[0].split(":")[0] != "done":
            moved.append(stage)
    assert len(moved) >= 3, f"only {moved} were seen in progress: {log}"
    # pictures arrived while the film was still being made, one after another, never going away
    imgs = [e["imgs"] for e in log]
    assert imgs == sorted(imgs) and imgs[-1] == 2, imgs
    first_img = next(e for e in log if e["imgs"] > 0)
    assert first_img["status"] in ("queued", "running"), first_img


def test_story_shows_title_characters_and_scenes(film: dict[str, Any], gateway: Gateway) -> None:
    page = film["page"]
    story = httpx.get(f"{gateway.base_url}/api/movies/{film['id']}", headers=gateway.auth("alice")).json()["story"]
    assert page.inner_text("#film-title") == story["title"]
    assert page.locator("#characters > li").count() == len(story["characters"])
    assert page.locator("#scenes > li").count() == len(story["scenes"]) == 2
    first = story["characters"][0]
    assert first["name"] in page.inner_text("#characters")
    assert first["clothing"] in page.inner_text("#characters")
    assert story["scenes"][0]["narration"].split()[0] in page.inner_text("#scenes")
    alts = page.eval_on_selector_all("#storyboard img", "els => els.map(e => e.alt)")
    assert alts == [f"Scene {i + 1}: {s['scene_description']}" for i, s in enumerate(story["scenes"])]


def test_video_plays_and_subtitles_download(film: dict[str, Any], gateway: Gateway) -> None:
    page = film["page"]
    page.wait_for_function("() => document.querySelector('#video').readyState >= 3", timeout=30_000)
    page.evaluate("() => { const v = document.querySelector('#video'); v.muted = true; return v.play(); }")
    page.wait_for_function("() => document.querySelector('#video').currentTime > 0.5", timeout=20_000)
    duration = page.evaluate("document.querySelector('#video').duration")
    assert duration > 5
    # the player streams a signed link (seekable with Range), not a whole-file blob: copy
    src = page.evaluate("document.querySelector('#video').currentSrc")
    assert f"/api/movies/{film['id']}/video?token=" in src, src
    page.evaluate("() => { const v = document.querySelector('#video'); v.pause(); v.currentTime = 0; }")
    shoot(page, "film-done", WIDE)

    with page.expect_download() as dl:
        page.click("[data-download=srt]")
    got = Path(dl.value.path()).read_bytes()
    want = httpx.get(f"{gateway.base_url}/api/movies/{film['id']}/subtitles.srt", headers=gateway.auth("alice")).content
    assert got == want and b"-->" in got
    assert dl.value.suggested_filename.endswith(".srt")
    with page.expect_download() as dl:
        page.click("[data-download=story]")
    assert b'"scenes"' in Path(dl.value.path()).read_bytes()
    # the editor timeline (issue 22): the EDL and its media, zipped by GET /api/movies/{id}/export
    import zipfile

    page.select_option("#export-format", "edl")
    with page.expect_download() as dl:
        page.click("#export-timeline")
    names = zipfile.ZipFile(dl.value.path()).namelist()
    assert dl.value.suggested_filename.endswith("-edl.zip")
    assert any(n.endswith(".edl") for n in names) and any("/media/scene-01" in n for n in names), names


def test_film_page_shows_the_qa_checks(film: dict[str, Any], gateway: Gateway) -> None:
    """Issue 24: the QA report of the finished film, each check pass or fail with its value."""
    page = film["page"]
    qa = httpx.get(f"{gateway.base_url}/api/movies/{film['id']}", headers=gateway.auth("alice")).json()["qa"]
    assert qa["passed"], qa
    page.wait_for_selector("#qa:not([hidden])")
    assert page.locator("#qa-checks > li").count() == len(qa["checks"]) >= 8
    assert page.inner_text("#qa-verdict") == f"All {len(qa['checks'])} checks passed"
    rows = page.eval_on_selector_all("#qa-checks > li", "els => els.map(e => e.innerText)")
    js = lambda v: str(int(v)) if isinstance(v, float) and v.is_integer() else str(v)  # noqa: E731 (as JS prints)
    for row, c in zip(rows, qa["checks"], strict=True):
        assert "Pass" in row and js(c["value"]) in row and str(c["threshold"]) in row, (row, c)
    page.locator("#qa").scroll_into_view_if_needed()
    shoot(page, "film-qa", WIDE)
    with page.expect_download() as dl:
        page.click("#qa-report")
    whole = json.loads(Path(dl.value.path()).read_text())
    want = httpx.get(f"{gateway.base_url}/api/movies/{film['id']}/qa", headers=gateway.auth("alice")).json()
    assert whole == want and "stretches" in {k for c in whole["checks"] for k in c}


def test_my_films_lists_it_with_poster(film: dict[str, Any], gateway: Gateway) -> None:
    page = film["page"]
    page.goto(gateway.base_url + "/films")
    card = page.locator(f'a.card__link[href$="/films/{film["id"]}"]')
    card.wait_for()
    page.wait_for_function("() => document.querySelector('.card__poster img')?.naturalWidth > 0")
    assert "Finished" in card.inner_text()
    shoot(page, "my-films", WIDE)


def test_pages_at_phone_width(film: dict[str, Any], gateway: Gateway, browser: Any) -> None:
    ctx = browser.new_context(viewport=PHONE, is_mobile=True, has_touch=True)
    page = ctx.new_page()
    console = Console(page)
    page.goto(gateway.base_url + "/signin")
    shoot(page, "signin", PHONE)
    assert no_horizontal_scroll(page)
    sign_in(page, gateway.base_url, gateway.keys["alice"], "/films")
    pages = {"my-films": "/films", "new-film": "/", "film-done": f"/films/{film['id']}", "queue-no-admin": "/queue"}
    for name, path in pages.items():
        page.goto(gateway.base_url + path)
        if name == "film-done":
            page.wait_for_selector("#player:not([hidden])")
            page.wait_for_function("() => document.querySelectorAll('#storyboard img').length === 2")
        elif name == "my-films":
            page.wait_for_selector(".card")
        else:
            page.wait_for_load_state("networkidle")
        shoot(page, name, PHONE)
        assert no_horizontal_scroll(page), f"{name} scrolls sideways at 390 px"
    ctx.close()
    # the queue board refuses a user key (403) and says so in words
    assert [m for m in console.errors if "403" not in m] == []


def test_second_user_cannot_see_the_film(film: dict[str, Any], gateway: Gateway, browser: Any) -> None:
    ctx = browser.new_context(viewport=WIDE)
    page = ctx.new_page()
    console = Console(page)
    sign_in(page, gateway.base_url, gateway.keys["bob"], "/films")
    page.wait_for_selector("#films-empty:not([hidden])")
    assert page.locator(f'a[href$="{film["id"]}"]').count() == 0
    page.goto(f"{gateway.base_url}/films/{film['id']}")
    page.wait_for_selector("#film-missing:not([hidden])")
    assert page.locator("#film").is_hidden()
    shoot(page, "film-not-yours", WIDE)
    for path in ("", "/video", "/subtitles.srt", "/poster.jpg", "/events"):
        r = httpx.get(f"{gateway.base_url}/api/movies/{film['id']}{path}", headers=gateway.auth("bob"))
        assert r.status_code == 404, (path, r.status_code)
    ctx.close()
    # the only errors are the 404s the page was meant to get
    assert console.errors and all("404" in m for m in console.errors), console.errors


@pytest.fixture(scope="module")
def failed_film(gateway: Gateway, browser: Any) -> dict[str, Any]:
    """Alice asks for a film whose story provider needs a key the server lacks: it fails, and says so."""
    ctx = browser.new_context(viewport=WIDE)
    ctx.add_init_script(film_recorder_js())
    page = ctx.new_page()
    console = Console(page)
    sign_in(page, gateway.base_url, gateway.keys["alice"], "/")
    page.fill("#prompt", "A film that cannot be written yet.")
    page.fill("#num_sequences", "2")
    page.select_option("#resolution", "360p")
    page.click("details.advanced summary")
    choices = page.eval_on_selector_all("#provider-story option", "els => els.map(e => e.value)")
    page.select_option("#provider-story", next(v for v in choices if v.startswith("anthropic/")))
    page.click("#submit")
    page.wait_for_url(re.compile(r".*/films/[A-Za-z0-9_-]+$"))
    page.wait_for_selector("#film-error:not([hidden])", timeout=60_000)
    shoot(page, "film-failed", WIDE)
    return {"ctx": ctx, "page": page, "console": console, "id": page.url.rsplit("/", 1)[-1]}


def test_a_failed_film_says_why_and_offers_a_retry(failed_film: dict[str, Any], gateway: Gateway,
                                                   browser: Any) -> None:
    page = failed_film["page"]
    assert page.locator("#film-status").get_attribute("data-status") == "failed"
    assert "at Story" in page.inner_text("#film-error-title")
    assert "ANTHROPIC_API_KEY" in page.inner_text("#film-error-text")
    assert "missing an API key" in page.inner_text("#film-error-hint")
    assert page.locator('.stage[data-stage="story"]').get_attribute("data-status") == "failed"
    page.click("#error-retry-btn")
    # back in the queue, then (the key is still missing) failed again, with the error shown again
    page.wait_for_function("() => window.__filmLog.filter(e => e.status === 'failed').length >= 1 && "
                           "window.__filmLog.findLastIndex(e => e.status !== 'failed') > "
                           "window.__filmLog.findIndex(e => e.status === 'failed')", timeout=30_000)
    page.wait_for_selector('#film-status[data-status="failed"]', timeout=60_000)
    page.wait_for_selector("#film-error:not([hidden])")
    assert failed_film["console"].errors == []
    failed_film["ctx"].close()

    phone = browser.new_context(viewport=PHONE, is_mobile=True, has_touch=True)
    p = phone.new_page()
    sign_in(p, gateway.base_url, gateway.keys["alice"], f"/films/{failed_film['id']}")
    p.wait_for_selector("#film-error:not([hidden])")
    shoot(p, "film-failed", PHONE)
    assert no_horizontal_scroll(p)
    phone.close()


def test_queue_board_for_operators(film: dict[str, Any], failed_film: dict[str, Any], gateway: Gateway,
                                   browser: Any) -> None:
    for viewport in (WIDE, PHONE):
        ctx = browser.new_context(viewport=viewport)
        page = ctx.new_page()
        console = Console(page)
        sign_in(page, gateway.base_url, gateway.keys["admin"], "/queue")
        page.wait_for_function("() => document.querySelector('#updated').textContent.startsWith('Updated')")
        done = page.locator('.stat[data-status="done"] .stat__n').inner_text()
        assert int(done) >= 1
        assert "Story" in page.inner_text("#stages-table")
        assert int(page.locator('.stat[data-status="failed"] .stat__n').inner_text()) >= 1
        row = page.locator("#failed tbody tr", has_text=failed_film["id"])
        assert "ANTHROPIC_API_KEY" in row.inner_text()
        assert page.locator("#workers tbody tr").count() >= 1
        shoot(page, "queue", viewport)
        assert no_horizontal_scroll(page)
        if viewport is PHONE:
            row.get_by_role("button", name=re.compile("^Retry")).click()
            page.wait_for_function("() => document.querySelector('#queue-status').textContent.includes('queue')")
            # the film's own event log shows both retries (alice's on its page, the operator's here)
            events = sse_events(gateway, "alice", failed_film["id"])
            assert [e for e in events if e == "movie_retried"] == ["movie_retried"] * 2, events
        assert not console.errors, console.errors
        ctx.close()


@pytest.mark.parametrize("viewport", [WIDE, PHONE], ids=["1280", "390"])
def test_pages_pass_axe(film: dict[str, Any], gateway: Gateway, browser: Any, viewport: dict[str, int]) -> None:
    ctx = browser.new_context(viewport=viewport)
    page = ctx.new_page()
    sign_in(page, gateway.base_url, gateway.keys["alice"], "/films")
    page.wait_for_selector(".card")
    problems = {"/films": axe_violations(page)}
    for path in ("/", f"/films/{film['id']}"):
        page.goto(gateway.base_url + path)
        page.wait_for_load_state("networkidle")
        if path == "/":
            page.click("details.advanced summary")
        problems[path] = axe_violations(page)
    page.goto(gateway.base_url + "/signin")
    problems["/signin"] = axe_violations(page)
    ctx.close()
    assert all(not v for v in problems.values()), problems


def test_keyboard_reaches_every_control_with_a_visible_focus(gateway: Gateway, browser: Any) -> None:
    ctx = browser.new_context(viewport=WIDE)
    page = ctx.new_page()
    sign_in(page, gateway.base_url, gateway.keys["alice"], "/")
    page.wait_for_load_state("networkidle")
    page.evaluate("document.activeElement.blur()")
    seen: list[dict[str, Any]] = []
    for _ in range(30):
        page.keyboard.press("Tab")
        seen.append(page.evaluate("""() => {
            const el = document.activeElement, cs = getComputedStyle(el);
            return {id: el.id || el.textContent.trim().slice(0, 20), tag: el.tagName,
                    ring: cs.boxShadow !== 'none' || (cs.outlineStyle !== 'none' && cs.outlineWidth !== '0px')};
        }"""))
    ctx.close()
    seen = [s for s in seen if s["tag"] != "BODY"]  # past the last control focus leaves the page
    ids = [s["id"] for s in seen]
    assert ids[0] == "Skip to content"
    for want in ("prompt", "genre", "num_sequences", "aspect-1", "resolution", "seed", "seed-random", "submit"):
        assert want in ids, (want, ids)
    assert "Advanced" in ids
    no_ring = [s for s in seen if not s["ring"]]
    assert not no_ring, f"focus not visible on {no_ring}"


def test_no_console_errors_on_the_way(film: dict[str, Any], gateway: Gateway) -> None:
    film["page"].goto(f"{gateway.base_url}/films/{film['id']}")  # one more load of the film page, when done
    film["page"].wait_for_selector("#player:not([hidden])")
    assert film["console"].errors == [], film["console"].errors
    film["ctx"].close()


def test_new_film_form_explains_bad_input(gateway: Gateway, browser: Any) -> None:
    ctx = browser.new_context(viewport=PHONE, is_mobile=True, has_touch=True)
    page = ctx.new_page()
    console = Console(page)
    sign_in(page, gateway.base_url, gateway.keys["alice"], "/")
    page.click("#submit")  # no prompt: the page says so, on the field, and nothing is sent
    assert page.locator("#prompt-error").is_visible()
    assert "Write a prompt" in page.inner_text("#prompt-error")
    assert page.get_attribute("#prompt", "aria-invalid") == "true"
    assert page.evaluate("document.activeElement.id") == "prompt"
    # the server's own check (a control character): its 422 lands next to the field too
    page.fill("#prompt", "A bell rings\u0007 at midnight.")
    page.click("#submit")
    page.wait_for_selector("#form-error:not([hidden])")
    assert "control characters" in page.inner_text("#prompt-error")
    assert page.url.endswith("/")  # no film was made
    shoot(page, "new-film-invalid", PHONE)
    assert no_horizontal_scroll(page)
    ctx.close()
    assert len(console.errors) == 1 and "422" in console.errors[0], console.errors


def test_cancel_then_delete_from_the_film_page(gateway: Gateway, browser: Any) -> None:
    ctx = browser.new_context(viewport=WIDE)
    page = ctx.new_page()
    console = Console(page)
    sign_in(page, gateway.base_url, gateway.keys["carol"], "/")
    page.fill("#prompt", "A long night at the harbour, cut short.")
    page.fill("#num_sequences", "3")
    page.select_option("#resolution", "360p")
    page.click("#submit")
    page.wait_for_url(re.compile(r".*/films/[A-Za-z0-9_-]+$"))
    movie_id = page.url.rsplit("/", 1)[-1]
    page.click("#cancel-btn")
    with explained(page, gateway, "carol", movie_id):
        page.wait_for_selector('#film-status[data-status="cancelled"]', timeout=30_000)
    assert "cancelled" in page.inner_text("#film-error-title")
    assert page.locator("#error-retry-btn").is_visible()
    assert page.locator("#cancel-btn").is_hidden()
    page.once("dialog", lambda d: d.accept())
    page.click("#delete-btn")
    page.wait_for_url(f"{gateway.base_url}/films")
    page.wait_for_selector("#films-empty:not([hidden]), .card")
    assert page.locator(f'a[href$="{movie_id}"]').count() == 0
    assert httpx.get(f"{gateway.base_url}/api/movies/{movie_id}", headers=gateway.auth("carol")).status_code == 404
    ctx.close()
    assert console.errors == [], console.errors


def test_a_wrong_key_is_refused_in_words(gateway: Gateway, browser: Any) -> None:
    ctx = browser.new_context(viewport=PHONE)
    page = ctx.new_page()
    console = Console(page)
    page.goto(f"{gateway.base_url}/films")  # no key yet: sent to sign in, and back here after
    page.wait_for_url(re.compile(r".*/signin\?next=%2Ffilms$"))
    page.fill("#api-key", "dfx_000000000000_" + "x" * 43)
    page.click("#signin-form button[type=submit]")
    page.wait_for_selector("#api-key-error:not([hidden])")
    assert "not accepted" in page.inner_text("#api-key-error")
    assert page.get_attribute("#api-key", "aria-invalid") == "true"
    assert page.evaluate("sessionStorage.length + localStorage.length") == 0
    page.fill("#api-key", gateway.keys["alice"])
    page.check("#remember")
    page.click("#signin-form button[type=submit]")
    page.wait_for_url(f"{gateway.base_url}/films")
    assert page.evaluate("localStorage.getItem('deepflix.apiKey')") == gateway.keys["alice"]
    page.click("#signout")
    page.wait_for_url(f"{gateway.base_url}/signin")
    assert page.evaluate("sessionStorage.length + localStorage.length") == 0
    ctx.close()
    assert len(console.errors) == 1 and "401" in console.errors[0], console.errors
