"""The seed's `POST /api/movies` and the rest of a movie's life: status, list,
cancel, retry, delete. Every route acts for the API key's user only."""

from __future__ import annotations

import asyncio
import logging
import weakref
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Annotated, Any

from fastapi import APIRouter, HTTPException, Query, Request, Response
from fastapi.concurrency import run_in_threadpool
from fastapi.exceptions import RequestValidationError
from sqlalchemy.orm import Session

from ...errors import InvalidInput, UnknownProviderError
from ...jobs.errors import JobStateError
from ...jobs.settings import job_settings
from ...security import admissions, allowlist
from ...security.keys import Principal
from ...security.netguard import AddressRefused, resolve_checked
from ...service import movies, public
from ...service.admission import QuotaExceeded, admit
from ...service.submit import check_provider
from ..deps import CurrentUser, OwnedMovie, audit_request, run_write, settings_of, too_many
from ..responses import AUTH_ERRORS, BAD_BODY, CONFLICT, MOVIE_ERRORS
from ..schemas import (
    ErrorBody,
    JobStatus,
    MovieAccepted,
    MovieCreate,
    MovieList,
    MoviePublic,
)

router = APIRouter(prefix="/api/movies", tags=["movies"])
log = logging.getLogger("deepflix.api")


def _invalid(loc: tuple[str | int, ...], msg: str) -> RequestValidationError:
    """Our own checks answer in the same 422 shape as FastAPI's field errors."""
    return RequestValidationError([{"loc": loc, "msg": msg, "type": "value_error", "input": None}])


@router.post(
    "",
    status_code=202,
    response_model=MovieAccepted,
    responses={**AUTH_ERRORS, **BAD_BODY, 503: {"model": ErrorBody, "description": "The service cannot make films now."}},
    summary="Start making a film",
)
async def create_movie(body: MovieCreate, request: Request, response: Response, who: CurrentUser) -> MovieAccepted:
    """Queue a film for the caller. Answers at once (202) with the job's id and the
    URLs to follow it; the film is made in the background."""
    if body.userId is not None and body.userId != who.user:
        raise _invalid(("body", "userId"), "userId must be left out: the user is the API key's owner")
    for stage, name in body.providers.items():
        try:
            check_provider(stage, name)
        except UnknownProviderError as exc:
            raise _invalid(("body", "providers", stage), str(exc)) from exc
        try:
            # the operator's allow-list (admins: any)
            allowlist.check_provider(who, stage, name, settings_of(request).deepflix_user_providers)
        except allowlist.ProviderNotAllowed as exc:
            raise HTTPException(403, detail=str(exc)) from exc
    picture_options = _picture_options(body)
    try:
        allowlist.check_priority(who, body.priority)
    except allowlist.ProviderNotAllowed as exc:
        raise HTTPException(403, detail=str(exc)) from exc
    if body.webhook_url is not None:  # resolved here, before any lock: a refused address changes nothing

        try:
            await run_in_threadpool(resolve_checked, body.webhook_url, job_settings().webhook_allow_private)
        except AddressRefused as exc:
            raise _invalid(("body", "webhook_url"), str(exc)) from exc
    # The quota is counted and the film inserted in one write transaction under a per-user lock
    # (service.admission.lock_user: an advisory lock on PostgreSQL, the write lock on SQLite), so
    # neither two threads nor two gateways can both slip under it. The lock per user here only queues one user's
    # submissions in the event loop instead of in pool threads and connections waiting on the database.
    locks: weakref.WeakValueDictionary[str, asyncio.Lock] = request.app.state.submit_locks
    lock = locks.setdefault(who.user, asyncio.Lock())  # held alive by `lock` while in use, dropped after
    async with lock:

        def _submit() -> tuple[str, str]:
            with movies.write() as ws:
                _check_quotas(request, who, ws)
                fields = body.model_dump(exclude={"userId", "providers", "picture_options"})
                try:
                    movie = movies.submit_movie(ws, who.user, providers=dict(body.providers) or None, **fields,
                                                provider_options={"picture": picture_options} if picture_options else None)
                except InvalidInput as exc:
                    raise _invalid(("body",), str(exc)) from exc
                except UnknownProviderError as exc:  # the server's own provider settings name a missing one
                    log.error("submit refused: %s", exc)
                    raise HTTPException(503, detail="the service is misconfigured: a stage has no provider; "
                                        "an operator must fix DEEPFLIX_*_PROVIDER") from exc
                mid, status = movie.id, movie.status
                admissions.record(ws, who.user, mid)  # the day's quota counts this, not the film
                audit_request(request, ws, "movie.create", who=who, target=mid, outcome=202,
                              detail={"genre": body.genre, "scenes": body.num_sequences, "resolution": body.resolution})
            return mid, status

        mid, status = await run_write(request, _submit)
    request.state.job_id = mid
    response.headers["Location"] = f"/api/movies/{mid}"
    return MovieAccepted(id=mid, status=status, urls=public.urls(mid))


def _picture_options(body: MovieCreate) -> dict[str, Any]:
    """The body's picture options, within what the operator opens (a 422 naming the key otherwise)."""
    if not body.picture_options:
        return {}
    from ...plugins import configured_provider, get_provider_class
    from .. import picture_options

    try:
        pid = get_provider_class("picture", body.providers.get("picture")).provider_id if body.providers.get(
            "picture") else configured_provider("picture")
        return picture_options.check(pid, dict(body.picture_options))
    except picture_options.OptionRefused as exc:
        raise _invalid(("body", "picture_options", exc.key), str(exc)) from exc
    except UnknownProviderError:  # the server's own setting names a missing provider: the submit says so (503)
        return dict(body.picture_options)


@contextmanager
def _refused_as_429(request: Request) -> Iterator[None]:
    try:
        yield
    except QuotaExceeded as exc:
        request.app.state.metrics.limited.labels("quota").inc()
        raise too_many(str(exc), exc.retry_after) from exc


def _check_concurrency(request: Request, who: Principal, session: Session) -> None:
    """Admit one more film of the caller's now (a retry, a render): the per-user lock, then
    the concurrency quota, in the caller's write transaction (429 when full)."""
    with _refused_as_429(request):
        admit(session, who.user, max_jobs=who.max_concurrent_jobs or settings_of(request).deepflix_max_concurrent_jobs)


def _check_quotas(request: Request, who: Principal, session: Session) -> None:
    """Admit a new film: the concurrency quota and the day's (see create_movie)."""
    s = settings_of(request)
    with _refused_as_429(request):
        admit(session, who.user, max_jobs=who.max_concurrent_jobs or s.deepflix_max_concurrent_jobs,
              per_day=who.films_per_day or s.deepflix_films_per_day)


@router.get("", response_model=MovieList, responses={**AUTH_ERRORS}, summary="List your films")
def list_movies(
    who: CurrentUser,
    status: Annotated[JobStatus | None, Query(description="Only films in this state.")] = None,
    limit: Annotated[int, Query(ge=1, le=100)] = 20,
    offset: Annotated[int, Query(ge=0, le=1_000_000)] = 0,
) -> MovieList:
    """The caller's films, newest first."""
    with movies.read() as session:
        items, total = movies.list_summaries(session, who.user, status=status, limit=limit, offset=offset)
    return MovieList(items=items, total=total, limit=limit, offset=offset)


@router.get("/{movie_id}", response_model=MoviePublic, responses={**MOVIE_ERRORS}, summary="A film's status")
async def get_movie(movie: OwnedMovie) -> MoviePublic:  # async: only shapes data, no thread hop
    """Status, each stage's progress, the story once written, the error if it
    failed, and the URLs of its files."""
    return public.movie_public(movie)


def _act(request: Request, who: Principal, movie: dict[str, Any], action: str) -> dict[str, Any]:
    """cancel / retry / delete in the job service's own transaction, then the audit line."""
    outcome = 204 if action == "delete" else 200
    try:
        # a retry is admitted like a submission: counted under the user's lock, in the retry's transaction
        check: Callable[[Session], None] | None = (lambda ws: _check_concurrency(request, who, ws)) if action == "retry" else None
        out = movies.act(action, who.user, movie["id"], admit=check)
    except JobStateError as exc:
        outcome = 409
        raise HTTPException(409, detail=str(exc)) from exc
    except HTTPException as exc:
        outcome = exc.status_code
        raise
    finally:
        with movies.write() as ws:
            audit_request(request, ws, f"movie.{action}", who=who, target=movie["id"], outcome=outcome)
    if out is None:  # gone between the lookup and now
        raise HTTPException(404, detail=f"no movie {movie['id']!r} among yours")
    return out


@router.post("/{movie_id}/cancel", response_model=MoviePublic, responses={**MOVIE_ERRORS, **CONFLICT},
             summary="Stop making a film")
def cancel_movie(request: Request, movie: OwnedMovie, who: CurrentUser) -> MoviePublic:
    """Cancel a queued or running film; its finished stages are kept for a retry."""
    return public.movie_public(_act(request, who, movie, "cancel"))


@router.post("/{movie_id}/retry", status_code=202, response_model=MoviePublic,
             responses={**MOVIE_ERRORS, **CONFLICT}, summary="Try a failed or cancelled film again")
def retry_movie(request: Request, movie: OwnedMovie, who: CurrentUser) -> MoviePublic:
    """Run a failed or cancelled film again; what was finished is reused, not redone."""
    return public.movie_public(_act(request, who, movie, "retry"))


@router.delete("/{movie_id}", status_code=204, responses={**MOVIE_ERRORS, **CONFLICT}, summary="Delete a film")
def delete_movie(request: Request, movie: OwnedMovie, who: CurrentUser) -> Response:
    """Forget a film (a running one is cancelled first)."""
    _act(request, who, movie, "delete")
    return Response(status_code=204)
