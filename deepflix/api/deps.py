"""Request dependencies: the database session, who is calling (API key), the
rate limit per key, and the caller's own movie (anyone else's is a 404)."""

from __future__ import annotations

import asyncio
import logging
import math
from collections.abc import Callable, Iterator
from typing import Annotated, Any, TypeVar

from fastapi import Depends, HTTPException, Path, Query, Request, Security
from fastapi.concurrency import run_in_threadpool
from fastapi.security import APIKeyHeader, HTTPAuthorizationCredentials, HTTPBearer
from sqlalchemy.orm import Session

from ..core import config
from ..security import audit, keys, links
from ..security.keys import Principal
from ..service import movies
from . import logs
from .settings import ApiSettings

T = TypeVar("T")

api_key_header = APIKeyHeader(
    name="X-API-Key", auto_error=False, description="An API key from `deepflix keys create --user NAME`."
)
bearer = HTTPBearer(auto_error=False, description="The same API key as a bearer token.")

MOVIE_ID = r"^[A-Za-z0-9_-]{1,64}$"
log = logging.getLogger("deepflix.api")


def get_session() -> Iterator[Session]:
    """A read session for the route. Routes keep it only while they read: a request
    that held a pooled connection while waiting for a second one (a write) could
    starve the pool under load."""
    with movies.read() as s:
        yield s


def _verify(raw: str) -> Principal | None:
    with movies.read() as s:
        return keys.verify(s, raw)


def write_gate(database_url: str) -> asyncio.Semaphore:
    """How many of the gateway's database writes may hold a pool thread at once. On
    SQLite writes take turns anyway: one at a time, the rest wait in the event loop
    and start the moment the last one ends, instead of filling the thread pool with
    threads asleep in SQLite's busy handler (which, under 200 clients, left no
    threads for the reads). PostgreSQL writes run side by side."""
    return asyncio.Semaphore(1 if database_url.startswith("sqlite") else 16)


async def run_write(request: Request, fn: Callable[..., T], *args: Any) -> T:
    """Run a database write on a pool thread, through the app's write gate."""
    state = request.app.state
    gate = getattr(state, "write_gate", None)
    if gate is None:  # an app without the gateway's setup (a stage service run alone)

        gate = state.write_gate = write_gate(config.settings.database)
    async with gate:
        return await run_in_threadpool(fn, *args)


def _touch(key_id: str) -> None:
    """Record the key's use (see keys.touch). A failed write costs the request nothing:
    last_used_at is a hint for operators, not something to refuse a caller over."""
    try:
        with movies.write() as ws:
            keys.touch(ws, key_id)
    except Exception as exc:
        log.warning("could not record the use of key %s: %s", key_id, type(exc).__name__)


SessionDep = Annotated[Session, Depends(get_session)]


def settings_of(request: Request) -> ApiSettings:
    return request.app.state.api_settings  # type: ignore[no-any-return]


def client_ip(request: Request) -> str | None:
    if settings_of(request).deepflix_trust_forwarded:
        fwd = request.headers.get("x-forwarded-for")
        if fwd:
            return fwd.split(",")[0].strip()[:64]
    return request.client.host if request.client else None


def too_many(detail: str, retry_after: float) -> HTTPException:
    return HTTPException(429, detail=detail, headers={"Retry-After": str(max(1, math.ceil(retry_after)))})


def audit_request(
    request: Request, session: Session, action: str, *, who: Principal | None, target: str | None, outcome: int,
    detail: dict[str, Any] | None = None,
) -> None:
    audit.record(
        session, action, user=who.user if who else None, key_id=who.key_id if who else None, target=target,
        outcome=outcome, ip=client_ip(request), user_agent=request.headers.get("user-agent"), detail=detail,
    )


async def brake_bad_credentials(request: Request, message: str) -> None:
    """A bad key or link takes a token from its address's bucket: 429 once that is empty,
    so guessing is slow."""
    s = settings_of(request)
    d = await request.app.state.limiter.take("authfail:" + (client_ip(request) or "unknown"),
                                             s.deepflix_auth_failures_per_minute / 60.0,
                                             s.deepflix_auth_failures_burst)
    if not d.allowed:
        request.app.state.metrics.limited.labels("auth").inc()
        raise too_many(message, d.retry_after)


async def current_principal(
    request: Request,
    api_key: Annotated[str | None, Security(api_key_header)] = None,
    bearer_token: Annotated[HTTPAuthorizationCredentials | None, Security(bearer)] = None,
) -> Principal:
    """The caller, from X-API-Key or Authorization: Bearer; 401 otherwise. Callers
    that keep presenting bad keys are slowed per address (429) before any lookup."""
    raw = api_key or (bearer_token.credentials if bearer_token else None)
    if not raw:
        raise HTTPException(
            401,
            detail="an API key is required: send it as the X-API-Key header or as Authorization: Bearer <key>",
            headers={"WWW-Authenticate": "Bearer"},
        )
    who = keys.verify_cached(raw)  # most requests: a hash and a dict lookup, no thread, no database
    if who is None:
        who = await run_in_threadpool(_verify, raw)
    if who is None:
        await brake_bad_credentials(request, "too many requests with invalid API keys from this address; "
                                             "wait and retry")

        def _deny() -> None:
            with movies.write() as ws:
                audit_request(request, ws, "auth.denied", who=None, target=None, outcome=401,
                              detail={"path": request.url.path})

        await run_in_threadpool(_deny)
        raise HTTPException(401, detail="the API key is not valid (unknown, mistyped or revoked)",
                            headers={"WWW-Authenticate": "Bearer"})
    if keys.touch_due(who.key_id):  # once a minute per key in this process, not per request
        await run_write(request, _touch, who.key_id)
    logs.user.set(who.user)
    request.state.user = who.user
    request.state.principal = who
    return who


async def rate_limited_principal(request: Request, who: Annotated[Principal, Depends(current_principal)]) -> Principal:
    """The caller, after taking a token from their key's bucket (429 + Retry-After when empty)."""
    s = settings_of(request)
    per_minute = who.rate_per_minute or s.deepflix_rate_per_minute
    d = await request.app.state.limiter.take("key:" + who.key_id, per_minute / 60.0, s.deepflix_rate_burst)
    if not d.allowed:
        request.app.state.metrics.limited.labels("rate").inc()
        raise too_many(
            f"rate limit: this key may make {per_minute:g} requests a minute (bursts of {s.deepflix_rate_burst}); "
            f"retry in {max(1, math.ceil(d.retry_after))} s",
            d.retry_after,
        )
    return who


CurrentUser = Annotated[Principal, Depends(rate_limited_principal)]


def require_admin(who: CurrentUser) -> Principal:
    if not who.is_admin:
        raise HTTPException(403, detail="this needs an admin key (`deepflix keys create --user NAME --admin`)")
    return who


AdminUser = Annotated[Principal, Depends(require_admin)]
MovieId = Annotated[str, Path(pattern=MOVIE_ID, description="The id POST /api/movies answered.")]


def owned_movie(request: Request, movie_id: MovieId, who: CurrentUser) -> dict[str, Any]:
    """The caller's movie; someone else's, or none, is the same 404 (ids are not secrets, but
    whether a stranger's film exists is)."""
    request.state.job_id = movie_id  # the access log line carries it
    movie = movies.find(who.user, movie_id)
    if movie is None:
        raise HTTPException(404, detail=f"no movie {movie_id!r} among yours")
    return movie


OwnedMovie = Annotated[dict[str, Any], Depends(owned_movie)]


def media_movie(file: str | None = None, kind: str = "picture", param: str = "scene") -> Callable[..., Any]:
    """A dependency: the film whose ``file`` is asked for ("video", "srt", "vtt",
    "poster"; None: ``kind:<the path's param>``, the scene picture named by the path's
    ``scene`` or a character's portrait, "portrait:<character>"). Opened by the
    caller's key like every route, or, with no key, by a signed link's token
    (security/links.py), which is how <video> and <img> reach it."""

    async def dependency(
        request: Request,
        movie_id: MovieId,
        token: Annotated[str | None, Query(
            pattern=links.TOKEN_PATTERN,
            description="A signed link's token, from the film's status: opens this file without a key "
                        "for about an hour.")] = None,
        api_key: Annotated[str | None, Security(api_key_header)] = None,
        bearer_token: Annotated[HTTPAuthorizationCredentials | None, Security(bearer)] = None,
    ) -> dict[str, Any]:
        if token is None or api_key or bearer_token:
            who = await rate_limited_principal(request, await current_principal(request, api_key, bearer_token))
            return await run_in_threadpool(owned_movie, request, movie_id, who)
        request.state.job_id = movie_id
        name = file or f"{kind}:{request.path_params.get(param)}"
        movie = await run_in_threadpool(movies.find_for_link, movie_id)
        s = settings_of(request)
        if movie is not None and links.check(token, movie_id, name, movie["owner"]):
            # links share a bucket per owner, at the key's default rate: a leaked link can't be hammered
            d = await request.app.state.limiter.take("link:" + movie["owner"], s.deepflix_rate_per_minute / 60.0,
                                                     s.deepflix_rate_burst)
            if not d.allowed:
                request.app.state.metrics.limited.labels("rate").inc()
                raise too_many("rate limit on this film's links; retry later", d.retry_after)
            return movie
        await brake_bad_credentials(request, "too many requests with invalid links or keys from this address; "
                                             "wait and retry")
        raise HTTPException(401, detail="this link is not valid or has expired: take a new one from the film's "
                            "status, or send an API key", headers={"WWW-Authenticate": "Bearer"})

    return dependency
