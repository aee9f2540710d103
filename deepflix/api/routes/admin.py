"""The operators' view (admin keys only): the queue board's numbers, every
user's films, and cancel / retry of any film."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, HTTPException, Query, Request
from fastapi import Path as PathParam

from ...jobs.errors import JobStateError
from ...jobs.stats import queue_stats
from ...service import movies, public
from ..deps import AdminUser, MovieId, SessionDep, audit_request
from ..schemas import ErrorBody, JobStatus, MovieList, MoviePublic
from .movies import AUTH_ERRORS, CONFLICT

router = APIRouter(prefix="/api/admin", tags=["admin"])
ACTION_PATH = PathParam(pattern="^(cancel|retry)$", description="cancel or retry")
ADMIN_ERRORS: dict[int | str, dict[str, Any]] = {
    **AUTH_ERRORS, 403: {"model": ErrorBody, "description": "The key is not an admin key."}
}


@router.get("/queue", responses=ADMIN_ERRORS, summary="The queue board's numbers")
def queue(who: AdminUser, session: SessionDep) -> dict[str, Any]:
    """Films and stages by state, stage timings, queue depths, workers online, dead letters."""

    out = queue_stats(session)
    if not out.get("broker", {}).get("ok", False):
        out["broker"] = {"ok": False, "error": "the job queue's Redis cannot be reached"}  # no paths or URLs
    return out


@router.get("/movies", response_model=MovieList, responses=ADMIN_ERRORS, summary="Every user's films")
def all_movies(
    who: AdminUser,
    session: SessionDep,
    status: Annotated[JobStatus | None, Query()] = None,
    limit: Annotated[int, Query(ge=1, le=100)] = 50,
    offset: Annotated[int, Query(ge=0, le=1_000_000)] = 0,
) -> MovieList:
    """Newest first across owners."""
    items, total = movies.list_summaries(session, None, status=status, limit=limit, offset=offset)
    return MovieList(items=items, total=total, limit=limit, offset=offset)


@router.post("/movies/{movie_id}/{action}", response_model=MoviePublic,
             responses={**ADMIN_ERRORS, 404: {"model": ErrorBody}, **CONFLICT}, summary="Cancel or retry any film")
def act(request: Request, movie_id: MovieId, action: Annotated[str, ACTION_PATH], who: AdminUser) -> MoviePublic:
    owner = movies.owner_of(movie_id)  # read in its own session, released before the write below
    if owner is None:
        raise HTTPException(404, detail=f"no movie {movie_id!r}")
    outcome = 200
    try:
        out = movies.act(action, owner, movie_id)
    except JobStateError as exc:
        outcome = 409
        raise HTTPException(409, detail=str(exc)) from exc
    finally:
        with movies.write() as ws:
            audit_request(request, ws, f"admin.{action}", who=who, target=movie_id, outcome=outcome,
                          detail={"owner": owner})
    if out is None:
        raise HTTPException(404, detail=f"no movie {movie_id!r}")
    return public.movie_public(out)
