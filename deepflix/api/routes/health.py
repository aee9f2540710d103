"""`GET /api/health` (database, broker, storage, each stage's provider) and
`GET /metrics` for Prometheus: the two routes that need no API key."""

from __future__ import annotations

import asyncio
import hmac
import threading
import time
from typing import Any

import redis
from fastapi import APIRouter, HTTPException, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse, Response
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from ... import db
from ...core import config
from ...errors import DeepFlixError
from ...film.plan import current as current_plan
from ...jobs.broker import redis_url
from ...plugins import get_provider, stages
from ...service import movies  # noqa: F401  (imports the models)
from ...storage import open_store
from ..schemas import ComponentHealth, Health

router = APIRouter(tags=["health"])
CACHE_SECONDS = 2.0  # health is public: a flood of calls costs one check per 2 s


def _safe(exc: BaseException) -> str:
    """A reason fit to show anyone: our own errors' words, else only the kind of failure."""
    return str(exc)[:300] if isinstance(exc, DeepFlixError) else type(exc).__name__


def check_database() -> ComponentHealth:
    try:
        rev, head = db.current_revision(), db.head_revision()
    except Exception as exc:
        return ComponentHealth(ok=False, detail=f"cannot reach the database ({_safe(exc)})")
    if rev != head:
        return ComponentHealth(ok=False, detail=f"schema at {rev}, code expects {head}: run `deepflix serve` to migrate")
    return ComponentHealth(ok=True, detail=f"schema {rev}")


def check_broker() -> ComponentHealth:
    try:
        url = redis_url()
        client = redis.Redis.from_url(url, socket_timeout=1.0, socket_connect_timeout=1.0)
        try:
            client.ping()
        finally:
            client.close()
    except Exception as exc:
        return ComponentHealth(ok=False, detail=_safe(exc) if isinstance(exc, DeepFlixError)
                               else f"the job queue's Redis does not answer ({_safe(exc)})")
    return ComponentHealth(ok=True, detail="redis (embedded)" if url.startswith("unix://") else "redis")


def check_storage() -> ComponentHealth:
    try:
        store = open_store()
        probe = store.scratch_dir() / ".health"
        probe.write_text("ok")
        probe.unlink()
        store.has("0" * 64)  # a remote store answers a lookup
    except Exception as exc:
        return ComponentHealth(ok=False, detail=f"artifact store not usable ({_safe(exc)})")
    return ComponentHealth(ok=True, detail=config.settings.deepflix_storage)


def check_providers() -> dict[str, dict[str, Any]]:
    out: dict[str, dict[str, Any]] = {}
    for stage in stages():
        name = config.settings.provider_for(stage) or current_plan()[stage].default_provider
        try:
            h = dict(get_provider(stage, name).health())
        except Exception as exc:
            h = {"provider": name, "ok": False, "detail": _safe(exc)}
        h["ok"] = bool(h.get("ok"))
        out[stage] = h
    return out


_lock = threading.Lock()
_cached: tuple[float, Health] | None = None


def health_now() -> Health:
    global _cached
    with _lock:
        if _cached is not None and time.monotonic() - _cached[0] < CACHE_SECONDS:
            return _cached[1]
    database, broker, storage = check_database(), check_broker(), check_storage()
    h = Health(ok=database.ok and broker.ok and storage.ok, database=database, broker=broker, storage=storage,
               providers=check_providers())
    with _lock:
        _cached = (time.monotonic(), h)
    return h


@router.get(
    "/api/health",
    response_model=Health,
    responses={503: {"model": Health, "description": "The database, the broker or the storage is not usable."}},
    summary="Is the service ready?",
)
async def health() -> JSONResponse:
    """Readiness: 200 when the database, the job queue's Redis and the artifact store
    all work, else 503. Each stage's provider reports its own readiness (a provider
    that is not ready fails only the films that use it)."""
    h = await run_in_threadpool(health_now)
    return JSONResponse(h.model_dump(mode="json"), status_code=200 if h.ok else 503,
                        headers={"Cache-Control": "no-store"})


@router.get(
    "/metrics",
    response_class=Response,
    responses={200: {"content": {"text/plain": {"schema": {"type": "string"}}},
                     "description": "Prometheus text format."}},
    summary="Prometheus metrics",
)
async def metrics(request: Request) -> Response:
    """Open unless DEEPFLIX_METRICS_TOKEN is set (then `Authorization: Bearer <token>`).
    The job metrics are database aggregates: the text is kept DEEPFLIX_METRICS_CACHE_SECONDS,
    so a flood of scrapes costs one computation per period."""
    s = request.app.state.api_settings
    if s.deepflix_metrics_token is not None:
        scheme, _, given = request.headers.get("authorization", "").partition(" ")
        want = s.deepflix_metrics_token.get_secret_value().encode()
        if scheme.lower() != "bearer" or not hmac.compare_digest(given.strip().encode(), want):
            raise HTTPException(401, detail="/metrics needs Authorization: Bearer <DEEPFLIX_METRICS_TOKEN>",
                                headers={"WWW-Authenticate": "Bearer"})
    state = request.app.state
    cached = getattr(state, "metrics_cache", None)
    if cached is None or time.monotonic() - cached[0] >= s.deepflix_metrics_cache_seconds:
        loop = asyncio.get_running_loop()  # a lock serves one event loop (tests run an app in several)
        if getattr(state, "metrics_lock", (None, None))[0] is not loop:
            state.metrics_lock = (loop, asyncio.Lock())
        async with state.metrics_lock[1]:  # concurrent scrapes wait for one computation
            cached = getattr(state, "metrics_cache", None)
            if cached is None or time.monotonic() - cached[0] >= s.deepflix_metrics_cache_seconds:
                cached = state.metrics_cache = (time.monotonic(),
                                                await run_in_threadpool(generate_latest, state.metrics.registry))
    return Response(cached[1], media_type=CONTENT_TYPE_LATEST)
