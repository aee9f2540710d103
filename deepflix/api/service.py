"""Build a small FastAPI app for one of the seed's stage services
(`/generate-cinematic-story`, `/generateImages`, `/generate-voice`), so each can
run as its own service and the gateway can mount the same router."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Any

from fastapi import APIRouter, FastAPI, Request
from fastapi.params import Depends
from fastapi.responses import JSONResponse

from ..errors import DeepFlixError, InvalidInput, NeedsKeyError, ProviderError
from ..security.public_errors import public_message

log = logging.getLogger("deepflix.api")

# the seed's stage services: (module of its router, name); main mounts them, stages runs each alone
STAGE_SERVICES = (
    ("deepflix.api.routes.story_service", "story"),
    ("deepflix.api.routes.images_service", "images"),
    ("deepflix.api.routes.voice_service", "voice"),
)


def error_status(exc: DeepFlixError) -> int:
    if isinstance(exc, InvalidInput):
        return 422
    if isinstance(exc, NeedsKeyError):
        return 503
    if isinstance(exc, ProviderError):
        return 503 if exc.transient else 502
    return 400


def invalid_input(exc: InvalidInput) -> JSONResponse:
    """Bad input, in FastAPI's 422 shape (a list of what was wrong), from the gateway and
    from each stage service run alone, so a client reads one shape."""
    return JSONResponse({"detail": [{"loc": ["body"], "msg": public_message(exc), "type": "value_error"}]}, status_code=422)


def install_error_handlers(app: FastAPI) -> None:
    """InvalidInput -> 422 (``invalid_input``), another DeepFlixError -> a JSON error the
    user can act on; anything else -> a bare 500 (the details go to the log, never to the client)."""

    @app.exception_handler(InvalidInput)
    async def _invalid(request: Request, exc: InvalidInput) -> JSONResponse:
        log.info("%s on %s %s: %s", type(exc).__name__, request.method, request.url.path, exc)
        return invalid_input(exc)

    @app.exception_handler(DeepFlixError)
    async def _deepflix_error(request: Request, exc: DeepFlixError) -> JSONResponse:
        headers = {}
        retry_after = getattr(exc, "retry_after", None)
        if retry_after:
            headers["Retry-After"] = str(int(retry_after + 0.999))
        log.warning("%s on %s %s: %s", type(exc).__name__, request.method, request.url.path, exc)  # the detail
        return JSONResponse({"detail": public_message(exc)}, status_code=error_status(exc), headers=headers)

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, exc: Exception) -> JSONResponse:
        log.exception("unhandled error on %s %s", request.method, request.url.path)
        return JSONResponse({"detail": "internal error"}, status_code=500)


def stage_app(name: str, router: APIRouter, dependencies: Sequence[Depends] | None = None, **kw: Any) -> FastAPI:
    """A standalone service: the router (with the given auth dependencies) plus error handlers."""
    app = FastAPI(title=f"DeepFlix {name} service", version="0.1.0", **kw)
    app.include_router(router, dependencies=list(dependencies or []))
    install_error_handlers(app)
    return app


def without_health(router: APIRouter) -> APIRouter:
    """A stage router minus its own /health (the gateway's is /api/health, and open)."""
    out = APIRouter()
    out.routes.extend(r for r in router.routes if getattr(r, "path", None) != "/health")
    return out
