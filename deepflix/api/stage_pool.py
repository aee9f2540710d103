"""Bounded capacity for the seed's stage endpoints (/generate-voice, /generateImages,
/generate-cinematic-story).

Each kind of call runs on a small thread pool of its own, never on the thread pool
that the rest of the gateway (key checks, reads of films) shares: a flood of speech
calls can then fill only the speech pool. In front of each pool:

* a cap on calls in flight per API key (DEEPFLIX_STAGE_INFLIGHT_PER_KEY): 429;
* a cost taken from the key's own rate bucket (the one every request takes a token
  from), proportional to the work: characters for voice, scenes for pictures and
  stories; 429 with Retry-After when the bucket cannot pay it;
* a cap on calls running or waiting for a thread (the pool's workers plus
  DEEPFLIX_STAGE_QUEUE): 503 with Retry-After beyond it, so waiting never piles up.
"""

from __future__ import annotations

import asyncio
import contextvars
import math
import threading
from collections import Counter
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any, TypeVar

from fastapi import HTTPException, Request

from .settings import ApiSettings, api_settings

T = TypeVar("T")
KINDS = ("voice", "images", "story")


class StagePool:
    """One kind's threads and its admission counts (touched only from the event loop)."""

    def __init__(self, kind: str, workers: int, queue: int) -> None:
        self.kind, self.workers, self.limit = kind, workers, workers + queue
        self.executor = ThreadPoolExecutor(max_workers=workers, thread_name_prefix=f"deepflix-{kind}")
        self.admitted = 0
        self.per_key: Counter[str] = Counter()

    def shutdown(self) -> None:
        self.executor.shutdown(wait=False, cancel_futures=True)


_lock = threading.Lock()


def _settings(request: Request) -> ApiSettings:
    return getattr(request.app.state, "api_settings", None) or api_settings()


def pool_of(request: Request, kind: str) -> StagePool:
    """The app's pool for ``kind``, made on first use (the stage routers are mounted
    on the gateway and on each standalone service; each app gets its own pools)."""
    state = request.app.state
    pools: dict[str, StagePool] | None = getattr(state, "stage_pools", None)
    if pools is None:
        with _lock:
            pools = getattr(state, "stage_pools", None)
            if pools is None:
                pools = state.stage_pools = {}
    if kind not in pools:
        s = _settings(request)
        with _lock:
            if kind not in pools:
                pools[kind] = StagePool(kind, int(getattr(s, f"deepflix_stage_workers_{kind}")), s.deepflix_stage_queue)
    return pools[kind]


def _refuse(request: Request, status: int, detail: str, retry_after: float, reason: str) -> HTTPException:
    metrics = getattr(request.app.state, "metrics", None)
    if metrics is not None:
        metrics.limited.labels(reason).inc()
    return HTTPException(status, detail=detail, headers={"Retry-After": str(max(1, math.ceil(retry_after)))})


async def run_stage_call(request: Request, kind: str, cost: float, fn: Callable[..., T], *args: Any) -> T:
    """Run ``fn(*args)`` on the kind's own pool, after the caller's key has room for
    one more call of this kind and has paid ``cost`` tokens from its rate bucket
    (the request itself already paid one). Refusals change nothing."""
    s = _settings(request)
    pool = pool_of(request, kind)
    who = getattr(request.state, "principal", None)
    key = who.key_id if who is not None else None
    if key is not None and pool.per_key[key] >= s.deepflix_stage_inflight_per_key:
        raise _refuse(request, 429, f"this key already has {pool.per_key[key]} {kind} call(s) running; the most "
                      f"at once is {s.deepflix_stage_inflight_per_key}: wait for one to finish", 5, "stage")
    if pool.admitted >= pool.limit:
        raise _refuse(request, 503, f"the {kind} service is busy ({pool.admitted} calls running or waiting); "
                      "retry shortly", 5, "stage")
    # counted before the first await, so concurrent callers see each other's places
    pool.admitted += 1
    if key is not None:
        pool.per_key[key] += 1

    def release() -> None:
        pool.admitted -= 1
        if key is not None:
            pool.per_key[key] -= 1
            if pool.per_key[key] <= 0:
                del pool.per_key[key]

    try:
        extra = max(0.0, cost - 1.0)
        limiter = getattr(request.app.state, "limiter", None)
        if who is not None and limiter is not None and extra > 0:
            await _pay(request, s, who, kind, limiter, extra)
        ctx = contextvars.copy_context()  # the request id and user reach the log lines the call writes
        fut = pool.executor.submit(ctx.run, fn, *args)
    except BaseException:
        release()
        raise
    # the place is given back when the thread is done, not when the caller stops waiting
    # (a client that hangs up must not free a place its call still holds)
    loop = asyncio.get_running_loop()

    def done(_f: Any) -> None:
        try:
            loop.call_soon_threadsafe(release)
        except RuntimeError:  # the loop is closed: the app is gone, and its counts with it
            pass

    fut.add_done_callback(done)
    return await asyncio.wrap_future(fut)


async def _pay(request: Request, s: ApiSettings, who: Any, kind: str, limiter: Any, extra: float) -> None:
    per_minute = who.rate_per_minute or s.deepflix_rate_per_minute
    burst = s.deepflix_rate_burst
    if extra + 1 > burst:  # could never be paid: say what to change
        raise _refuse(request, 429, f"this {kind} call costs {extra + 1:g} requests and this key may make at most "
                      f"{burst} at once; send less work per call", 60, "rate")
    d = await limiter.take("key:" + who.key_id, per_minute / 60.0, burst, extra)
    if not d.allowed:
        raise _refuse(request, 429, f"rate limit: this {kind} call costs {extra + 1:g} requests of the key's "
                      f"{per_minute:g} a minute; retry in {max(1, math.ceil(d.retry_after))} s",
                      d.retry_after, "rate")
