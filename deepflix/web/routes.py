"""Pages of the web interface.

The pages are server-rendered shells: the server fills in what it knows for
everyone (genres, samplers, the providers each stage can use), and the page's
script fetches the signed-in user's data from the REST API with their key. The
key lives in the browser (sessionStorage, or localStorage when remembered), so
no page here needs a session or a cookie, and the API's own checks (a user
sees only their own films) are the only ones there are.

Everything is served from this package: no CDN, no build step. Pages send a
strict Content-Security-Policy (no inline script or style), which the templates
and scripts are written to satisfy.
"""

from __future__ import annotations

import hashlib
import importlib.resources
import logging
from functools import cache
from pathlib import Path
from typing import Any, get_args

from fastapi import APIRouter, HTTPException, Request
from fastapi.responses import FileResponse, HTMLResponse, Response
from fastapi.staticfiles import StaticFiles
from jinja2 import Environment, FileSystemLoader, select_autoescape

from .. import plugins
from ..film.plan import current
from ..models import GENRES, MAX_SCENES, SAMPLERS, Aspect, Resolution

log = logging.getLogger("deepflix.web")

HERE = Path(__file__).parent
STATIC = HERE / "static"

# blob: for media and downloads fetched with the key (see static/js/api.js)
CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' blob: data:; "
    "media-src 'self' blob:; font-src 'self'; connect-src 'self'; object-src 'none'; "
    "base-uri 'self'; form-action 'self'; frame-ancestors 'none'"
)
PAGE_HEADERS = {
    "Content-Security-Policy": CSP,
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "Cache-Control": "no-store",
}


# the fonts the stylesheet names, from the font-source-sans-pro package (OFL)
FONTS = {
    "source-sans-regular.otf": "SourceSansPro-Regular.otf",
    "source-sans-semibold.otf": "SourceSansPro-Semibold.otf",
    "source-sans-bold.otf": "SourceSansPro-Bold.otf",
}


class _Static(StaticFiles):
    """Static files a browser keeps but checks (ETag, 304) on each load: the
    scripts import each other by plain names, so they cannot be cached blind."""

    def file_response(self, *args: Any, **kwargs: Any) -> Response:
        response = super().file_response(*args, **kwargs)
        response.headers.setdefault("Cache-Control", "no-cache")
        return response



router = APIRouter(include_in_schema=False)
router.mount("/static/web", _Static(directory=STATIC), name="web-static")

_env = Environment(
    loader=FileSystemLoader(HERE / "templates"),
    autoescape=select_autoescape(["html"]),
    trim_blocks=True,
    lstrip_blocks=True,
)


@cache
def _asset_version(path: str) -> str:
    """A content hash, so a new release's scripts are never served from a stale cache."""
    try:
        return hashlib.sha256((STATIC / path).read_bytes()).hexdigest()[:10]
    except OSError:
        return "0"


def _static(request: Request, path: str) -> str:
    root = request.scope.get("root_path", "").rstrip("/")
    return f"{root}/static/web/{path}?v={_asset_version(path)}"


def _provider_choices() -> dict[str, dict[str, Any]]:
    """Each stage's registered providers and the server's configured default."""

    out: dict[str, dict[str, Any]] = {}

    for stage in current().names:
        try:
            ids = sorted(plugins.providers(stage))
        except Exception:  # a broken plugin must not take the page down; the API will say more
            log.warning("could not list %s providers", stage, exc_info=True)
            ids = []
        if not ids and current()[stage].when is not None:
            continue  # a stage only some films use (clips), with nothing installed: no choice to offer
        out[stage] = {
            "label": current()[stage].label,
            "default": plugins.configured_provider(stage),
            "ids": ids,
        }
    return out


def _stages_json() -> str:
    """The plan's stages and their labels, for the pages' scripts (body data-stages)."""
    import json


    return json.dumps([[st.name, st.label] for st in current()])


def _page(request: Request, template: str, title: str, page: str, **ctx: Any) -> HTMLResponse:
    html = _env.get_template(template).render(
        title=title,
        page=page,
        root=request.scope.get("root_path", "").rstrip("/"),
        static=lambda p: _static(request, p),
        stages_json=_stages_json(),
        **ctx,
    )
    return HTMLResponse(html, headers=PAGE_HEADERS)


@router.get("/", response_class=HTMLResponse)
def new_film(request: Request) -> HTMLResponse:
    return _page(
        request,
        "new.html",
        "New film",
        "new",
        genres=GENRES,
        samplers=SAMPLERS,
        aspects=get_args(Aspect),
        resolutions=get_args(Resolution),
        max_scenes=MAX_SCENES,
        providers=_provider_choices(),
    )


@router.get("/signin", response_class=HTMLResponse)
def signin(request: Request) -> HTMLResponse:
    return _page(request, "signin.html", "Sign in", "signin")


@router.get("/films", response_class=HTMLResponse)
def my_films(request: Request) -> HTMLResponse:
    return _page(request, "films.html", "My films", "films")


@router.get("/films/{movie_id}", response_class=HTMLResponse)
def film(request: Request, movie_id: str) -> HTMLResponse:
    # the id is only echoed into a data attribute (autoescaped); the API decides if it exists
    return _page(request, "film.html", "Film", "film", movie_id=movie_id[:200])


@router.get("/queue", response_class=HTMLResponse)
def queue_board(request: Request) -> HTMLResponse:
    return _page(request, "queue.html", "Queue", "queue")


@router.get("/static/fonts/{name}")
def font(name: str) -> Response:
    if name not in FONTS:
        raise HTTPException(status_code=404, detail="Not Found")
    path = importlib.resources.files("font_source_sans_pro") / "files" / FONTS[name]
    return FileResponse(
        str(path), media_type="font/otf", headers={"Cache-Control": "public, max-age=604800, immutable"}
    )
