"""The operators' view (admin keys only): the queue board's numbers, every
user's films, and cancel / retry of any film."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, HTTPException, Query, Request
from sqlalchemy import func, select

from ...db.models import Movie
from ...jobs.stats import queue_stats
from .. import backend
from ..deps import AdminUser, MovieId, SessionDep, audit_request
from ..schemas import ErrorBody, JobStatus, MovieList, MoviePublic, MovieSummary
from .movies import AUTH_ERRORS, CONFLICT

router = APIRouter(prefix="/api/admin", tags=["admin"])
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
    where = [Movie.status == status] if status else []
    total = session.scalar(select(func.count()).select_from(Movie).where(*where)) or 0
    owners = list(session.scalars(select(Movie.owner).where(*where).distinct().limit(10_000)))
    items: list[MovieSummary] = []
    # newest first across owners: gather each owner's page window, then merge (owners are few next to films)
    for owner in owners:
        page, _ = backend.list_movies(session, owner, status=status, limit=limit + offset, offset=0)
        items.extend(page)
    items.sort(key=lambda m: (m.created_at, m.id), reverse=True)
    return MovieList(items=items[offset:offset + limit], total=int(total), limit=limit, offset=offset)


def _owner_of(session: Any, movie_id: str) -> str:
    owner = session.scalar(select(Movie.owner).where(Movie.id == movie_id))
    if owner is None:
        raise HTTPException(404, detail=f"no movie {movie_id!r}")
    return str(owner)


@router.post("/movies/{movie_id}/{action}", response_model=MoviePublic,
             responses={**ADMIN_ERRORS, 404: {"model": ErrorBody}, **CONFLICT}, summary="Cancel or retry any film")
def act(request: Request, movie_id: MovieId, action: Annotated[str, backend.ACTION_PATH], who: AdminUser) -> MoviePublic:
    with backend.session() as session:  # released before the write below takes its own connection
        owner = _owner_of(session, movie_id)
    fn = backend.cancel_movie if action == "cancel" else backend.retry_movie
    outcome = 200
    try:
        out = fn(owner, movie_id)
    except backend.Conflict as exc:
        outcome = 409
        raise HTTPException(409, detail=str(exc)) from exc
    finally:
        with backend.write_session() as ws:
            audit_request(request, ws, f"admin.{action}", who=who, target=movie_id, outcome=outcome,
                          detail={"owner": owner})
    if out is None:
        raise HTTPException(404, detail=f"no movie {movie_id!r}")
    return backend.movie_public(out)
