"""The seed's stage services run alone, each with its own `GET /health` (open) and
every other route behind the gateway's API keys and rate limit.

    uvicorn deepflix.api.stages:story_app --port 5000      # /generate-cinematic-story
    uvicorn deepflix.api.stages:images_app --port 5001     # /generateImages
    uvicorn deepflix.api.stages:voice_app --port 5002      # /generate-voice
    python -m deepflix.api.stages images --port 5001

The keys are the gateway's (the same DATABASE_URL); the gateway itself mounts the
same routers (deepflix.api.main)."""

from __future__ import annotations

import argparse
import importlib
from collections.abc import Callable
from typing import Any

from fastapi import APIRouter, Depends, FastAPI

from ..core import config
from ..security.ratelimit import MemoryLimiter, RedisLimiter
from .deps import rate_limited_principal
from .logs import configure_json_logging
from .metrics import Metrics
from .middleware import RequestContextMiddleware, SecurityHeadersMiddleware
from .responses import AUTH_ERRORS, BAD_BODY
from .service import STAGE_SERVICES, stage_app, without_health
from .settings import ApiSettings, api_settings


def health_only(router: APIRouter) -> APIRouter:
    out = APIRouter()
    out.routes.extend(r for r in router.routes if getattr(r, "path", None) == "/health")
    return out


def secured_stage_app(name: str, router: APIRouter, settings: ApiSettings | None = None, **kw: Any) -> FastAPI:
    """stage_app with the key check and rate limit on every route but /health, plus
    the gateway's security headers, request ids and JSON access log."""

    app = stage_app(name, without_health(router), dependencies=[Depends(rate_limited_principal)],
                    responses={**AUTH_ERRORS, **BAD_BODY}, **kw)
    app.include_router(health_only(router))
    metrics = Metrics()
    app.state.api_settings = settings or api_settings()
    app.state.metrics = metrics
    url = config.settings.redis_url
    app.state.limiter = RedisLimiter(url) if url else MemoryLimiter()
    app.add_middleware(RequestContextMiddleware, observe=metrics.observe)
    app.add_middleware(SecurityHeadersMiddleware)
    return app


def secured_app_getattr(name: str, router: APIRouter) -> Callable[[str], object]:
    """A module ``__getattr__`` so that ``uvicorn <module>:app`` runs the stage service
    with keys and rate limits (built on first use: the gateway's stack is heavy)."""

    def __getattr__(attr: str) -> object:
        if attr == "app":
            return secured_stage_app(name, router)
        raise AttributeError(attr)

    return __getattr__


def build(name: str, settings: ApiSettings | None = None) -> FastAPI:
    for module, stage in STAGE_SERVICES:
        if stage == name:
            return secured_stage_app(name, importlib.import_module(module).router, settings)
    raise KeyError(f"no stage service {name!r}; there are {', '.join(s for _, s in STAGE_SERVICES)}")


def __getattr__(attr: str) -> FastAPI:
    """``story_app``, ``images_app``, ``voice_app``: built on first use (uvicorn's import string)."""
    if attr.endswith("_app"):
        app = build(attr[:-4])
        globals()[attr] = app
        return app
    raise AttributeError(attr)


def main(argv: list[str] | None = None) -> int:
    import uvicorn


    p = argparse.ArgumentParser(prog="python -m deepflix.api.stages")
    p.add_argument("service", choices=[s for _, s in STAGE_SERVICES])
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, default=None, help="default: PORT")
    a = p.parse_args(argv)
    configure_json_logging()
    uvicorn.run(build(a.service), host=a.host, port=a.port or config.settings.port, log_config=None,
                server_header=False)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
