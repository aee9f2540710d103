"""The gateway: `create_app()` builds the whole REST API.

Routes: /api/movies (submit, list, status, events, video, subtitles, poster,
cancel, retry, delete), the seed's per-stage endpoints behind the same keys,
/api/health and /metrics (the only routes open without a key), the API docs
served without a CDN. Around them: security headers, a request id and a JSON
access log line per request, errors answered without stack traces or paths.
"""

from __future__ import annotations

import importlib
import logging
import weakref
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from functools import partial
from typing import Any

from fastapi import APIRouter, Depends, FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from ..core import config
from ..errors import DeepFlixError, InvalidInput
from ..jobs import stats
from ..security.public_errors import public_message
from ..security.ratelimit import MemoryLimiter, RedisLimiter
from ..service.submit import provider_ids
from .bodylimit import BodyLimitMiddleware
from .deps import rate_limited_principal, write_gate
from .docs import install_docs
from .metrics import STAGE_BUCKETS, Metrics
from .middleware import RequestContextMiddleware, SecurityHeadersMiddleware
from .routes import admin, events, health, media, movies, scenes
from .routes import export as export_route  # the editor hand-off (deepflix/handoff)
from .routes import review as review_routes  # review before render (jobs/review.py)
from .service import STAGE_SERVICES, error_status, invalid_input, without_health
from .settings import ApiSettings, api_settings

log = logging.getLogger("deepflix.api")

DESCRIPTION = """Turn a prompt into a narrated short film.

Every route but `/api/health` and `/metrics` needs an API key (`deepflix keys create --user NAME`),
sent as `X-API-Key: <key>` or `Authorization: Bearer <key>`. A key sees only its user's films.
Requests are rate-limited per key (429 with Retry-After), and films are limited per user
(unfinished at once, started per day)."""


def stage_routers() -> list[tuple[str, Any]]:
    """The seed's stage services that are installed: (name, router)."""
    found = []
    for module, name in STAGE_SERVICES:
        try:
            mod = importlib.import_module(module)
        except ModuleNotFoundError as exc:
            if exc.name == module:  # not written / not installed: the gateway runs without it
                continue
            raise
        router = getattr(mod, "router", None)
        if router is not None:
            found.append((name, router))
    return found


def _web_router() -> APIRouter | None:
    try:
        from ..web import router
    except ModuleNotFoundError as exc:
        if exc.name and exc.name.startswith("deepflix.web"):
            return None
        raise
    return router  # type: ignore[no-any-return]


def allowed_methods(app: FastAPI, scope: Any) -> list[str]:
    """Methods some route of the app answers at this path (asked of the routes themselves,
    so routers included in any way count)."""
    from starlette.routing import Match

    out = []
    for method in ("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"):
        probe = {**scope, "method": method}
        if any(route.matches(probe)[0] == Match.FULL for route in app.router.routes):
            out.append(method)
    return out


def install_gateway_errors(app: FastAPI) -> None:
    """Every error as JSON {"detail": ...}: our errors in their own words, HTTP errors
    as raised, bad input as FastAPI's field list, and anything unexpected as a bare
    500 with the request id (the details go to the log, never to the client)."""

    @app.exception_handler(InvalidInput)
    async def _invalid(request: Request, exc: InvalidInput) -> JSONResponse:
        return invalid_input(exc)

    @app.exception_handler(DeepFlixError)
    async def _deepflix(request: Request, exc: DeepFlixError) -> JSONResponse:
        headers = {}
        retry_after = getattr(exc, "retry_after", None)
        if retry_after:
            headers["Retry-After"] = str(int(retry_after + 0.999))
        log.warning("%s on %s %s: %s", type(exc).__name__, request.method, request.url.path, exc)  # the detail
        return JSONResponse({"detail": public_message(exc)}, status_code=error_status(exc), headers=headers)

    @app.exception_handler(RequestValidationError)
    async def _validation(request: Request, exc: RequestValidationError) -> JSONResponse:
        # FastAPI's shape, minus the echoed input (it may be large, or hold a secret) and pydantic's doc URLs
        errors = [{k: v for k, v in e.items() if k in ("loc", "msg", "type")} for e in exc.errors()]
        return JSONResponse({"detail": errors}, status_code=422)

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        headers = dict(getattr(exc, "headers", None) or {})
        if exc.status_code == 405:  # Starlette names only the first route's methods; a path may have several routes
            headers["Allow"] = ", ".join(allowed_methods(request.app, request.scope))
        return JSONResponse({"detail": exc.detail}, status_code=exc.status_code, headers=headers or None)

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, exc: Exception) -> JSONResponse:
        log.error("unhandled error on %s %s", request.method, request.url.path, exc_info=exc)
        rid = request.headers.get("x-request-id")
        return JSONResponse({"detail": "internal error; the server logged it" + (f" (request {rid})" if rid else "")},
                            status_code=500)


def _list_providers_in_spec(app: FastAPI) -> None:
    """The spec names the installed providers of each stage (an enum per stage in
    MovieCreate.providers), so clients and generated tests see the real choices."""

    plain = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            spec = plain()
            movie = spec.get("components", {}).get("schemas", {}).get("MovieCreate", {})
            if "providers" in movie.get("properties", {}):
                prop = movie["properties"]["providers"]
                prop["properties"] = {st: {"type": "string", "enum": ids} for st, ids in provider_ids().items() if ids}
                prop["additionalProperties"] = False
                prop.pop("propertyNames", None)
            app.openapi_schema = spec
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]


def create_app(settings: ApiSettings | None = None, *, limiter: Any = None) -> FastAPI:
    """The gateway app. ``settings`` defaults to the environment's; ``limiter``
    to a Redis token bucket when REDIS_URL is set, else one in memory."""

    s = settings or api_settings()
    metrics = Metrics(snapshot=partial(stats.metrics_snapshot, STAGE_BUCKETS))

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        try:
            yield
        finally:
            close = getattr(app.state.limiter, "aclose", None)
            if close is not None:
                await close()

    app = FastAPI(
        title="DeepFlix", version="0.1.0", description=DESCRIPTION, lifespan=lifespan,
        docs_url=None, redoc_url=None,  # served by install_docs, without a CDN
    )
    app.state.api_settings = s
    app.state.metrics = metrics
    app.state.submit_locks = weakref.WeakValueDictionary()  # user -> asyncio.Lock (routes/movies.py)
    app.state.write_gate = write_gate(config.settings.database)  # deps.run_write
    # redis.asyncio connects lazily, inside the event loop that serves the app
    url = config.settings.redis_url
    app.state.limiter = limiter if limiter is not None else (RedisLimiter(url) if url else MemoryLimiter())
    install_gateway_errors(app)
    app.include_router(health.router)
    app.include_router(movies.router)
    app.include_router(events.router)
    app.include_router(media.router)
    app.include_router(scenes.router)
    app.include_router(review_routes.router)
    from .routes import cast as cast_routes  # the cast's portraits (jobs/cast.py)

    app.include_router(cast_routes.router)
    app.include_router(admin.router)

    app.include_router(export_route.router)
    from .routes import quality as quality_route  # the film QA report (deepflix/quality)

    app.include_router(quality_route.router)
    if s.deepflix_mount_stage_services:
        for _name, router in stage_routers():
            app.include_router(without_health(router), dependencies=[Depends(rate_limited_principal)],
                               responses={**movies.AUTH_ERRORS, **movies.BAD_BODY})
    web = _web_router()
    if web is not None:
        app.include_router(web)  # the pages: public shells whose scripts call this API with the user's key
    install_docs(app)
    _list_providers_in_spec(app)
    # inside the request context, so a 413 is logged and carries the request id and security headers
    app.add_middleware(BodyLimitMiddleware, limits=lambda: (s.deepflix_max_body_bytes, s.deepflix_max_upload_bytes))
    app.add_middleware(RequestContextMiddleware, observe=metrics.observe)
    app.add_middleware(SecurityHeadersMiddleware)  # outermost: on every response, the 500s too
    return app
