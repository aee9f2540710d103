"""The web pages as the server sends them (no browser): every page renders with a
strict CSP and nothing inline, every script it names exists, the form matches
the gateway's request body, ids are escaped, fonts come from the package."""

from __future__ import annotations

import re
from pathlib import Path
from typing import get_args

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from deepflix.models import GENRES, SAMPLERS, Aspect, Resolution
from deepflix.web import router

STATIC = Path(__file__).resolve().parents[2] / "deepflix" / "web" / "static"
PAGES = ["/", "/signin", "/films", "/films/abc-123", "/queue"]


@pytest.fixture(scope="module")
def client() -> TestClient:
    app = FastAPI()
    app.include_router(router)
    return TestClient(app)


@pytest.mark.parametrize("path", PAGES)
def test_page_renders_with_a_strict_policy_and_nothing_inline(client: TestClient, path: str) -> None:
    r = client.get(path)
    assert r.status_code == 200
    assert r.headers["content-type"].startswith("text/html")
    csp = r.headers["content-security-policy"]
    assert "script-src 'self'" in csp and "unsafe-inline" not in csp and "unsafe-eval" not in csp
    html = r.text
    assert '<html lang="en">' in html and '<meta name="viewport"' in html
    assert not re.search(r"<script(?![^>]*\bsrc=)[^>]*>", html), "inline script"
    assert " style=" not in html and "<style" not in html, "inline style"
    assert not re.search(r"""(src|href)=["']https?://""", html), "something from another origin"
    assert 'href="#main"' in html and 'id="main"' in html  # skip link


@pytest.mark.parametrize("path", PAGES)
def test_every_asset_a_page_names_is_served(client: TestClient, path: str) -> None:
    html = client.get(path).text
    assets = re.findall(r"""(?:src|href)="(/static/[^"?]+)""", html)
    assert any(a.endswith(".js") for a in assets) and any(a.endswith(".css") for a in assets)
    for a in assets:
        r = client.get(a)
        assert r.status_code == 200, a
        assert r.headers["cache-control"] == "no-cache"


def test_scripts_import_only_files_that_exist() -> None:
    for js in (STATIC / "js").glob("*.js"):
        for name in re.findall(r"""from\s+"\./([\w.]+)";""", js.read_text()):
            assert (STATIC / "js" / name).is_file(), f"{js.name} imports missing {name}"


def test_stylesheet_fonts_are_served_from_the_package(client: TestClient) -> None:
    css = (STATIC / "app.css").read_text()
    fonts = re.findall(r'url\("\.\./fonts/([\w.-]+)"\)', css)
    assert len(fonts) == 3
    for f in fonts:
        r = client.get(f"/static/fonts/{f}")
        assert r.status_code == 200 and r.content[:4] == b"OTTO", f
        assert "max-age" in r.headers["cache-control"]
    assert client.get("/static/fonts/..%2F..%2Fsecret.otf").status_code == 404
    assert client.get("/static/fonts/LICENSE.txt").status_code == 404


def test_new_film_form_offers_what_the_model_allows_and_the_gateway_takes(client: TestClient) -> None:
    from deepflix.api.schemas import MovieCreate

    html = client.get("/").text
    for g in GENRES:
        assert f'value="{g}"' in html
    for s in SAMPLERS:
        assert f'<option value="{s}"' in html
    for a in get_args(Aspect):
        assert f'name="aspect" value="{a}"' in html
    for r in get_args(Resolution):
        assert f'<option value="{r}"' in html
    form = html[html.index('<form id="new-film"'):html.index("</form>")]
    fields = set(re.findall(r'\bname="([a-z_]+)"', form))
    body_fields = {f for f in fields if not f.startswith("provider")}
    assert body_fields <= set(MovieCreate.model_fields), body_fields - set(MovieCreate.model_fields)
    assert {"prompt", "genre", "num_sequences", "seed", "sampler", "steps", "cfg_scale", "aspect",
            "resolution"} <= body_fields
    for stage in ("story", "picture", "speech", "score", "cut"):
        assert f'id="provider-{stage}"' in html
    # every input has a label
    for input_id in re.findall(r'<(?:input|select|textarea)[^>]*\bid="([\w-]+)"', form):
        assert f'for="{input_id}"' in form, input_id


def test_film_id_is_escaped(client: TestClient) -> None:
    r = client.get("/films/%22%3E%3Cimg%20src=x%20onerror=alert(1)%3E")
    assert r.status_code == 200
    assert "<img src=x" not in r.text
    assert 'data-movie-id="&#34;&gt;&lt;img src=x onerror=alert(1)&gt;"' in r.text
