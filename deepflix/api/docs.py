"""The API docs (/docs, /redoc) from files this server holds, with no CDN and no
inline script, so the pages pass the same Content-Security-Policy as the rest.
The Swagger UI and ReDoc bundles come from the `fastapi-offline` package."""

from __future__ import annotations

from importlib.resources import files
from pathlib import Path

from fastapi import FastAPI
from fastapi.responses import HTMLResponse, Response
from fastapi.staticfiles import StaticFiles

# Swagger UI sets style attributes on its elements; its page alone allows inline styles.
DOCS_CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; "
    "connect-src 'self'; worker-src 'self' blob:; object-src 'none'; base-uri 'none'; frame-ancestors 'none'"
)

_SWAGGER = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>{title} - API docs</title>
<meta name="viewport" content="width=device-width, initial-scale=1">
<link rel="stylesheet" href="/docs-static/swagger-ui.css"></head>
<body><div id="swagger-ui"></div>
<script src="/docs-static/swagger-ui-bundle.js"></script>
<script src="/docs-static/init.js"></script></body></html>
"""

_INIT_JS = """window.ui = SwaggerUIBundle({
  url: %r, dom_id: "#swagger-ui", deepLinking: true, persistAuthorization: false,
  presets: [SwaggerUIBundle.presets.apis, SwaggerUIBundle.SwaggerUIStandalonePreset],
  layout: "BaseLayout"
});
"""

_REDOC = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>{title} - API reference</title>
<meta name="viewport" content="width=device-width, initial-scale=1"></head>
<body><redoc spec-url="{openapi}"></redoc><script src="/docs-static/redoc.standalone.js"></script></body></html>
"""


def _static_dir() -> Path | None:
    try:
        return Path(str(files("fastapi_offline") / "static"))
    except ModuleNotFoundError:
        return None


def install_docs(app: FastAPI) -> None:
    """Serve /docs and /redoc; without `fastapi-offline` installed there are no
    docs pages (the OpenAPI JSON is still at /openapi.json)."""
    static = _static_dir()
    if static is None or not static.is_dir():
        return
    openapi = app.openapi_url or "/openapi.json"
    headers = {"Content-Security-Policy": DOCS_CSP, "Cache-Control": "no-cache"}

    @app.get("/docs-static/init.js", include_in_schema=False)
    async def _init_js() -> Response:
        return Response(_INIT_JS % openapi, media_type="text/javascript", headers=headers)

    app.mount("/docs-static", StaticFiles(directory=static), name="docs-static")

    @app.get("/docs", include_in_schema=False)
    async def _swagger() -> HTMLResponse:
        return HTMLResponse(_SWAGGER.format(title=app.title), headers=headers)

    @app.get("/redoc", include_in_schema=False)
    async def _redoc() -> HTMLResponse:
        return HTMLResponse(_REDOC.format(title=app.title, openapi=openapi), headers=headers)
