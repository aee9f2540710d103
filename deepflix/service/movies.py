"""The movie service: the one facade the front ends (the API and so the pages, the
CLI's `deepflix jobs`) use over the job truth and the queue: submit, read, list,
events, cancel, retry, delete. A movie belongs to its owner: every lookup takes the
owner, and someone else's movie is simply not found.

Functions taking a ``session`` act in the caller's transaction (a write session,
``write()``: stage messages are sent when it commits); ``find``, ``events_after`` and
``act`` open their own. Admission (quotas, the per-user lock) is admission.py; a
submission is validated once into a FilmSpec by submit.py; movies are shaped for the
outside by public.py.

    with movies.write() as s:
        mid = movies.submit_movie(s, "alice", prompt="A lighthouse keeper ...", num_sequences=5).id
    movies.movie_public(movies.find("alice", mid))
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from pydantic import ValidationError
from sqlalchemy import case, func, select
from sqlalchemy.orm import Session, selectinload

from .. import db
from ..db.models import MOVIE_STATUSES, Event, Movie, Stage
from ..errors import InvalidInput
from ..jobs import state
from ..jobs.errors import JobStateError
from ..jobs.review import held_after
from ..models import Story
from .public import MOVIE_FIELDS, STAGE_FIELDS, Record, movie_public, movie_summary, record_of
from .schemas import MovieSummary
from .submit import first_error, spec_of

ACTIONS = ("cancel", "retry", "delete")


@contextmanager
def read() -> Iterator[Session]:
    """A read session (on SQLite a deferred BEGIN: it never waits for writers)."""
    with db.read_session() as s:
        yield s


@contextmanager
def write() -> Iterator[Session]:
    """A write transaction, committed when the block ends."""
    with db.session_scope() as s:
        yield s


@dataclass
class MoviePage:
    items: list[Movie]
    total: int
    limit: int
    offset: int


# --------------------------------------------------------------------------- submit


def submit_movie(session: Session, owner: str, *, webhook_url: str | None = None,
                 story: Story | dict[str, Any] | None = None, **fields: Any) -> Movie:
    """Queue a film: ``fields`` are submit.spec_of's (the seed's POST /api/movies body
    plus the look, a priority tier, providers and their options); ``story`` skips the
    story stage (a story a person wrote or edited). Raises InvalidInput, having written nothing."""
    if not owner or len(owner) > 128:
        raise InvalidInput("owner must be 1-128 characters")
    if webhook_url is not None and not webhook_url.startswith(("http://", "https://")):
        raise InvalidInput(f"webhook_url must be an http(s) URL; got {webhook_url[:100]!r}")
    try:
        written = Story.model_validate(story) if isinstance(story, dict) else story
    except ValidationError as exc:
        raise InvalidInput(first_error(exc, "story")) from exc
    spec = spec_of(story=written, **fields)
    request, options = spec.columns()
    movie = Movie(owner=owner, request=request, options=options, status="queued", priority=spec.priority,
                  webhook_url=webhook_url)
    if spec.review is not None:  # stop after that stage, awaiting the owner's edits and render (jobs/review.py)
        try:
            movie.hold = held_after(spec.review)
        except JobStateError as exc:
            raise InvalidInput(str(exc)) from exc
    return state.create_movie(session, movie, written.model_dump(mode="json") if written else None)


# --------------------------------------------------------------------------- read


def get_movie(session: Session, owner: str, movie_id: str) -> Movie | None:
    """The movie's row with its stages, or None when it does not exist or is someone else's."""
    if not movie_id or len(movie_id) > 64:
        return None
    return session.scalars(
        select(Movie).options(selectinload(Movie.stages)).where(Movie.id == movie_id, Movie.owner == owner)
    ).one_or_none()


_MOVIE, _STAGE = Movie.__table__.c, Stage.__table__.c
_RECORD = select(*(_MOVIE[f] for f in MOVIE_FIELDS))
_STAGES = select(*(_STAGE[f] for f in STAGE_FIELDS)).order_by(_STAGE.id)


def _read_record(*where: Any) -> Record | None:
    """The movie matching ``where`` as a record, by two plain SELECTs in one short read
    session: no ORM objects, which cost as much again as the SQL on every status read."""
    with read() as s:
        m = s.execute(_RECORD.where(*where)).mappings().one_or_none()
        if m is None:
            return None
        return record_of(m, s.execute(_STAGES.where(_STAGE.movie_id == m["id"])).mappings())


def find(owner: str, movie_id: str) -> Record | None:
    """The owner's movie as a record (public.record_of), or None (unknown, or someone else's)."""
    if not movie_id or len(movie_id) > 64:
        return None
    return _read_record(_MOVIE.id == movie_id, _MOVIE.owner == owner)


def row(owner: str, movie_id: str) -> Movie | None:
    """The owner's movie row, read in one short session and detached from it (its stages
    loaded), for what reads more of a movie than its record holds (the story's versions)."""
    with read() as s:
        m = get_movie(s, owner, movie_id)
        if m is not None:
            s.expunge(m)
        return m


def owner_of(movie_id: str) -> str | None:
    """Whose film this is (for operators, who act on anyone's), or None."""
    with read() as s:
        owner = s.scalar(select(Movie.owner).where(Movie.id == movie_id))
    return str(owner) if owner is not None else None


def find_for_link(movie_id: str) -> Record | None:
    """A film by id whoever owns it: only for checking a signed link, which names its owner."""
    return _read_record(_MOVIE.id == movie_id)


def list_movies(session: Session, owner: str | None, status: str | None = None, limit: int = 20,
                offset: int = 0) -> MoviePage:
    """The owner's movies (None: everyone's, for operators), newest first."""
    if status is not None and status not in MOVIE_STATUSES:
        raise InvalidInput(f"status must be one of {', '.join(MOVIE_STATUSES)}; got {status!r}")
    limit, offset = max(1, int(limit)), max(0, int(offset))
    where = ([Movie.owner == owner] if owner is not None else []) + ([Movie.status == status] if status else [])
    total = session.scalar(select(func.count()).select_from(Movie).where(*where)) or 0
    tie = Movie.id if owner is not None else Movie.id.desc()  # (the operators' list always broke ties this way)
    items = list(session.scalars(
        select(Movie).where(*where).order_by(Movie.created_at.desc(), tie).limit(limit).offset(offset)
    ))
    return MoviePage(items, int(total), limit, offset)


def list_summaries(session: Session, owner: str | None, *, status: str | None = None, limit: int = 20,
                   offset: int = 0) -> tuple[list[MovieSummary], int]:
    """A page of movies shaped for the API (public.movie_summary), and how many there are."""
    page = list_movies(session, owner, status, limit, offset)
    done: dict[str, int] = {}
    if page.items:
        done = {mid: int(n or 0) for mid, n in session.execute(
            select(Stage.movie_id, func.sum(case((Stage.status == "succeeded", 1), else_=0)))
            .where(Stage.movie_id.in_([m.id for m in page.items])).group_by(Stage.movie_id)
        )}
    return [movie_summary(m, done.get(m.id, 0)) for m in page.items], page.total


def stages_of(session: Session, movie_id: str) -> list[Stage]:
    return list(session.scalars(select(Stage).where(Stage.movie_id == movie_id).order_by(Stage.id)))


def events(session: Session, movie_id: str, after_id: int = 0, limit: int = 500) -> list[Event]:
    """The movie's events with id > after_id, oldest first."""
    return list(session.scalars(
        select(Event).where(Event.movie_id == movie_id, Event.id > after_id).order_by(Event.id).limit(max(1, limit))
    ))


def events_after(owner: str, movie_id: str, after: int, limit: int = 500) -> tuple[list[dict[str, Any]], str | None]:
    """Events after id ``after`` as the progress stream sends them, and the movie's status
    (None when it is gone), in one short session."""
    with read() as s:
        status = s.scalar(select(Movie.status).where(Movie.id == movie_id, Movie.owner == owner))
        if status is None:
            return [], None
        out = [{"id": e.id, "type": e.kind, "data": e.as_dict()} for e in events(s, movie_id, after, limit)]
    return out, status


# --------------------------------------------------------------------------- change


def cancel_movie(session: Session, owner: str, movie_id: str) -> Movie | None:
    movie = get_movie(session, owner, movie_id)
    if movie is None:
        return None
    if not state.cancel(session, movie_id):
        raise JobStateError(f"the movie is {movie.status}; only queued or running movies can be cancelled")
    return movie


def retry_movie(session: Session, owner: str, movie_id: str) -> Movie | None:
    """Run a failed or cancelled movie again; finished stages are kept."""
    movie = get_movie(session, owner, movie_id)
    if movie is None:
        return None
    if not state.retry(session, movie_id):
        raise JobStateError(f"the movie is {movie.status}; only failed or cancelled movies can be retried")
    return movie


def delete_movie(session: Session, owner: str, movie_id: str) -> bool:
    """Forget a movie (its stages and events). Its artifacts stay in the content-
    addressed store: other movies with the same inputs share them."""
    movie = get_movie(session, owner, movie_id)
    if movie is None:
        return False
    state.cancel(session, movie_id)
    session.delete(movie)
    session.flush()
    return True


def act(action: str, owner: str, movie_id: str, admit: Callable[[Session], None] | None = None) -> Record | None:
    """cancel, retry or delete in its own transaction; the movie afterwards (None: not
    found). ``admit`` (a retry's quota check, admission.admit) runs first in the same
    transaction and raises to refuse. JobStateError when the state does not allow it."""
    fn = {"cancel": cancel_movie, "retry": retry_movie, "delete": delete_movie}[action]
    with write() as s:
        if admit is not None:
            admit(s)
        if not fn(s, owner, movie_id):
            return None
    if action == "delete":
        return {"id": movie_id, "status": "deleted"}
    return find(owner, movie_id)


__all__ = ["ACTIONS", "MoviePage", "act", "cancel_movie", "delete_movie", "events", "events_after", "find",
           "find_for_link", "get_movie", "owner_of", "row", "list_movies", "list_summaries", "movie_public", "read", "retry_movie",
           "stages_of", "submit_movie", "write"]
