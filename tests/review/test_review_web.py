"""Review before render on the film page, in Debian's Chromium (Playwright) against
the real service: a film made with review stops after its pictures and voices;
one scene's narration is edited in place and another scene's picture redrawn,
with the keyboard; the Render button names what will be remade; the render
remakes exactly that (the stage events say so), and the new subtitles have the
new words. Screenshots of the editing page at 1280 and 390 px go to
$DEEPFLIX_REVIEW_SHOTS (default /tmp/deepflix-review-shots); axe-core and the
console must find nothing."""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from review_flow import last_render
from web_harness import (
    CHROMIUM,
    Console,
    Gateway,
    axe_violations,
    explained,
    no_horizontal_scroll,
    sign_in,
    start_gateway,
)

pytestmark = pytest.mark.skipif(not Path(CHROMIUM).exists(), reason=f"{CHROMIUM} is absent: apt-get install -y chromium")

WIDE = {"width": 1280, "height": 900}
PHONE = {"width": 390, "height": 844}
SHOTS = Path(os.environ.get("DEEPFLIX_REVIEW_SHOTS") or "/tmp/deepflix-review-shots")
NEW_WORDS = "The bottle was warm, as if someone had held it only a moment ago."
PLAN = "Render: 1 voice, 1 picture, 2 scene encodes, the score and the cut"


@pytest.fixture(scope="module")
def gateway(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Gateway]:
    with start_gateway(tmp_path_factory.mktemp("review-web")) as gw:
        yield gw


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=[
            "--headless=new", "--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking",
            "--disable-component-update", "--disable-sync"])
        yield b
        b.close()


def _shoot(page: Any, name: str) -> Path:
    SHOTS.mkdir(parents=True, exist_ok=True)
    path = SHOTS / f"{name}-{page.viewport_size['width']}.png"
    page.evaluate("window.scrollTo(0, 0)")
    page.screenshot(path=str(path), full_page=True, animations="disabled")
    return path


def _press(page: Any, selector: str) -> None:
    """Use a control the way a keyboard user does: focus it, press Enter."""
    page.focus(selector)
    page.keyboard.press("Enter")


def test_edit_redraw_and_render_only_what_changed(gateway: Gateway, browser: Any) -> None:
    ctx = browser.new_context(viewport=WIDE)
    page = ctx.new_page()
    console = Console(page)
    sign_in(page, gateway.base_url, gateway.keys["alice"], "/")
    page.fill("#prompt", "A lighthouse keeper finds a letter in a bottle, written tomorrow.")
    page.fill("#num_sequences", "2")
    page.select_option("#resolution", "360p")
    page.fill("#seed", "7")
    page.select_option("#review", "pictures")
    page.click("#submit")
    page.wait_for_url(re.compile(r".*/films/[A-Za-z0-9_-]+$"))
    mid = page.url.rstrip("/").rsplit("/", 1)[-1]
    with explained(page, gateway, "alice", mid):
        page.wait_for_selector('#film-status[data-status="awaiting_review"]', timeout=180_000)
        page.wait_for_selector("#review:not([hidden])")
        page.wait_for_function("() => document.querySelectorAll('#storyboard img').length === 2")
        page.wait_for_function("() => /^Render: /.test(document.querySelector('#render-btn').textContent)")
    assert page.inner_text("#film-status") == "Awaiting review"
    # nothing after the pictures was made: the first render has the score, the encodes and the cut to do
    assert page.inner_text("#render-btn") == "Render: 2 scene encodes, the score and the cut"

    # edit scene 1's narration in place, save with the keyboard
    page.fill("#edit-scene-0-narration", NEW_WORDS)
    _press(page, "#save-btn")
    page.wait_for_function("() => /1 voice/.test(document.querySelector('#render-btn').textContent)")
    # redraw scene 2's picture
    _press(page, '#storyboard [data-redraw="1"]')
    page.wait_for_function(f"() => document.querySelector('#render-btn').textContent === {PLAN!r}")
    _shoot(page, "review-editing")
    assert axe_violations(page) == []

    # the same page at phone width
    phone = browser.new_context(viewport=PHONE, is_mobile=True, has_touch=True)
    small = phone.new_page()
    small_console = Console(small)
    sign_in(small, gateway.base_url, gateway.keys["alice"], f"/films/{mid}")
    small.wait_for_selector("#review:not([hidden])")
    small.wait_for_function(f"() => document.querySelector('#render-btn').textContent === {PLAN!r}")
    assert small.input_value("#edit-scene-0-narration") == NEW_WORDS
    _shoot(small, "review-editing")
    assert no_horizontal_scroll(small), "the editing page scrolls sideways at 390 px"
    assert axe_violations(small) == []
    phone.close()

    _press(page, "#render-btn")
    with explained(page, gateway, "alice", mid):
        page.wait_for_selector('#film-status[data-status="done"]', timeout=240_000)
        page.wait_for_selector("#player:not([hidden])")
    remade, cached = last_render(mid)
    assert remade == {("speech", 0), ("picture", 1), ("segment", 0), ("segment", 1), ("score", None), ("cut", None)}
    # and the story row was kept as it was; the cast's portraits did not change
    assert cached - {c for c in cached if c[0] == "cast"} == {("speech", 1), ("picture", 0)}
    srt = httpx.get(f"{gateway.base_url}/api/movies/{mid}/subtitles.srt", headers=gateway.auth("alice")).text
    assert "someone had held it" in " ".join(srt.split())
    # the page shows the new film and offers the next round of edits
    page.wait_for_function("() => /nothing/.test(document.querySelector('#render-btn').textContent)")
    assert console.errors == [] and small_console.errors == [], (console.errors, small_console.errors)
    ctx.close()
