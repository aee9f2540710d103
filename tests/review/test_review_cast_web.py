"""The cast on the film page, in Debian's Chromium (Playwright) against the real service:
each character's portrait with their name; with the keyboard, a file that is not an
image is refused on the page (nothing sent), and a portrait of one's own is sent, the
film made again (only that character's scenes) and the new portrait shown. At 1280 and
390 px wide, axe-core and the console find nothing and nothing scrolls sideways.
Screenshots go to $DEEPFLIX_WEB_SHOTS (default test-results/web)."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "web"))

import web_harness as wh  # noqa: E402
from cast_flow import OWNER, image, made_film, registered  # noqa: E402
from review_flow import last_render  # noqa: E402

PHONE, WIDE = {"width": 390, "height": 844}, {"width": 1280, "height": 900}
pytestmark = pytest.mark.skipif(not Path(wh.CHROMIUM).exists(), reason="Debian's chromium is absent (apt-get install chromium)")


@pytest.fixture(scope="module")
def gateway(tmp_path_factory: pytest.TempPathFactory) -> Iterator[wh.Gateway]:
    with registered(), wh.start_gateway(tmp_path_factory.mktemp("cast-web")) as gw:
        yield gw


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    with wh.chromium() as b:
        yield b


def _open(browser: Any, gw: wh.Gateway, mid: str, viewport: dict[str, int]) -> tuple[Any, Any, wh.Console]:
    ctx = browser.new_context(viewport=viewport, **({"is_mobile": True, "has_touch": True} if viewport == PHONE else {}))
    page = ctx.new_page()
    # a listener from the start keeps the file chooser intercepted (one added per click races the click)
    page.choosers = []
    page.on("filechooser", lambda chooser: page.choosers.append(chooser))
    console = wh.Console(page)
    wh.sign_in(page, gw.base_url, gw.keys[OWNER], f"/films/{mid}")
    return ctx, page, console


def _choose(page: Any, selector: str, name: str, mime: str, data: bytes) -> None:
    """Open the file chooser the way a keyboard user does (focus the button, press Enter) and pick a file."""
    page.focus(selector)
    assert page.evaluate("s => document.activeElement === document.querySelector(s)", selector)
    n = len(page.choosers)
    page.keyboard.press("Enter")
    for _ in range(100):
        if len(page.choosers) > n:
            break
        page.wait_for_timeout(50)
    assert len(page.choosers) > n, "Enter on the button opened no file chooser"
    page.choosers[-1].set_files(files=[{"name": name, "mimeType": mime, "buffer": data}])


def test_the_cast_shows_and_a_portrait_is_replaced_with_the_keyboard(gateway: wh.Gateway, browser: Any) -> None:
    film = made_film(gateway)
    mid, chars = film["id"], film["movie"]["story"]["characters"]
    ctx, page, console = _open(browser, gateway, mid, WIDE)
    first = chars[0]
    card = f'#cast .cast__card[data-character="{first["id"]}"]'
    with wh.explained(page, gateway, OWNER, mid):
        page.wait_for_selector("#cast:not([hidden])")
        page.wait_for_function("n => document.querySelectorAll('#cast .cast__card[data-state=drawn] img').length === n",
                               arg=len(chars), timeout=30_000)
    names = [el.inner_text() for el in page.query_selector_all("#cast .cast__name")]
    assert names == [c["name"] for c in chars]
    assert page.get_attribute(f"{card} img", "alt") == f"Portrait of {first['name']}"
    old_src = page.get_attribute(f"{card} img", "src")
    wh.shoot(page, "cast", page.viewport_size)
    assert wh.axe_violations(page) == []

    button = f'{card} [data-cast-upload="{first["id"]}"]'
    _choose(page, button, "notes.txt", "text/plain", b"not a picture")  # refused on the page: nothing sent
    page.wait_for_selector("#cast-error:not([hidden])")
    assert "not a PNG, JPEG or WebP" in page.inner_text("#cast-error")

    _choose(page, button, "ada.png", "image/png", image((96, 128), (10, 200, 90)))
    with wh.explained(page, gateway, OWNER, mid):
        page.wait_for_function("() => /made again/.test(document.querySelector('#cast-live').textContent)")
        assert page.is_hidden("#cast-error")
        page.wait_for_selector(f'{card}[data-state="user"] img', timeout=180_000)
        page.wait_for_selector('#film-status[data-status="done"]', timeout=180_000)
    assert page.get_attribute(f"{card} img", "src") != old_src
    assert page.inner_text(f"{card} .cast__state") == "Your portrait"
    remade, _ = last_render(mid)
    assert remade == {("cast", 0), ("picture", 0), ("segment", 0), ("cut", None)}, remade
    wh.shoot(page, "cast-replaced", page.viewport_size)
    assert wh.axe_violations(page) == []
    assert console.errors == []
    ctx.close()

    # a phone: the cast fits, and its controls are still there to use
    ctx, page, console = _open(browser, gateway, mid, PHONE)
    with wh.explained(page, gateway, OWNER, mid):
        page.wait_for_function("n => document.querySelectorAll("
                               "'#cast .cast__card:is([data-state=drawn],[data-state=user]) img').length === n",
                               arg=len(chars), timeout=30_000)
    box = page.locator(button).bounding_box()
    assert box is not None and box["x"] >= 0 and box["x"] + box["width"] <= PHONE["width"] and box["height"] >= 36
    assert wh.no_horizontal_scroll(page)
    page.locator("#cast").screenshot(path=str(wh.SHOTS / "cast-section-390.png"))
    wh.shoot(page, "cast", page.viewport_size)
    assert wh.axe_violations(page) == []
    assert console.errors == []
    ctx.close()
