"""The job system's API for the gateway: plain functions over a DB session.

Use a write session (``deepflix.db.session_scope()``), and commit it (the scope
does): stage messages are sent when the transaction commits. A movie belongs
to its owner: every lookup takes the owner, and someone else's movie is
simply not found (the gateway answers 404).

    with session_scope() as s:
        movie = submit_movie(s, "alice", prompt="A lighthouse keeper ...", num_sequences=5)
        view = movie_view(movie)
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from pydantic import ValidationError
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from ..core import config
from ..db.models import MOVIE_STATUSES, PRIORITIES, Event, Movie, Stage
from ..errors import InvalidInput
from ..language_check import check_film_language, story_voices  # a language no voice speaks: refused now
from ..models import GenerationParams, Story, StoryRequest
from ..pipeline import FilmOptions
from ..plugins import resolve_providers as resolve
from . import state
from .errors import JobStateError
from .review import held_after
from .stats import queue_stats  # noqa: F401  (part of this API)

RESOLUTIONS = ("360p", "480p", "720p", "1080p", "2160p")


@dataclass
class MoviePage:
    items: list[Movie]
    total: int
    limit: int
    offset: int


def _first_error(exc: ValidationError) -> str:
    err = exc.errors()[0]
    where = ".".join(str(p) for p in err.get("loc", ())) or "request"
    return f"{where}: {err.get('msg')} (got {err.get('input')!r})"[:300]


def resolve_providers(chosen: dict[str, str] | None = None) -> dict[str, str]:
    """Full provider ids per stage, fixed at submit time so every worker makes the same film."""

    return resolve(chosen)


def submit_movie(
    session: Session,
    owner: str,
    *,
    prompt: str,
    genre: str = "drama",
    num_sequences: int = 6,
    seed: int = 0,
    sampler: str = "euler",
    steps: int = 20,
    cfg_scale: float = 7.0,
    aspect: str = "16:9",
    resolution: str = "1080p",
    priority: str = "normal",
    webhook_url: str | None = None,
    providers: dict[str, str] | None = None,
    language: str = "en",
    story: Story | dict[str, Any] | None = None,
    max_scenes: int | None = None,
    max_resolution: str | None = None,
    review: str | None = None,
    provider_options: dict[str, dict[str, Any]] | None = None,
    clips: str | int | None = None,
    strict: bool = False,
) -> Movie:
    """Queue a film. The fields are the seed's POST /api/movies body plus the look
    (aspect, resolution) and a priority tier; ``story`` skips the story stage
    (a story a person wrote or edited). ``max_scenes`` / ``max_resolution`` are
    the caller's caps (the gateway passes the key's quota); ``review`` ("story" or
    "pictures") stops the film after that stage (jobs/review.py); ``provider_options``
    (stage -> that provider's Options) go to its provider on every worker; ``clips`` (none, all, N)
    the scenes made as clips, ``strict`` fails the film when one fails (else that scene is its still).
    Raises InvalidInput."""
    if not owner or len(owner) > 128:
        raise InvalidInput("owner must be 1-128 characters")
    if priority not in PRIORITIES:
        raise InvalidInput(f"priority must be one of {', '.join(PRIORITIES)}; got {priority!r}")
    if resolution not in RESOLUTIONS:
        raise InvalidInput(f"resolution must be one of {', '.join(RESOLUTIONS)}; got {resolution!r}")
    if max_resolution and RESOLUTIONS.index(resolution) > RESOLUTIONS.index(max_resolution):
        raise InvalidInput(f"resolution {resolution} is above your limit of {max_resolution}")
    if webhook_url is not None and not webhook_url.startswith(("http://", "https://")):
        raise InvalidInput(f"webhook_url must be an http(s) URL; got {webhook_url[:100]!r}")
    try:
        # model_validate: the str fields are checked against the models' Literals here
        sreq = StoryRequest.model_validate({"prompt": prompt, "genre": genre, "num_scenes": num_sequences, "seed": seed,
                                            "language": language})
        params = GenerationParams.model_validate({"seed": seed, "sampler": sampler, "steps": steps, "cfg_scale": cfg_scale})
        opts = FilmOptions.model_validate({"aspect": aspect, "resolution": resolution, "params": params,
                                           "loudness_lufs": config.settings.deepflix_loudness_lufs,
                                           "providers": resolve_providers(providers), "clips": clips,
                                           "strict_clips": strict, "provider_options": provider_options or {}})
        story_obj = Story.model_validate(story) if isinstance(story, dict) else story
    except ValidationError as exc:
        raise InvalidInput(_first_error(exc)) from exc

    check_film_language(story_obj.language if story_obj else sreq.language, dict(opts.providers),
                        writes_story=story_obj is None, voices=story_voices(story_obj))
    from ..film.clips import check_clip_provider

    check_clip_provider(opts, dict(opts.providers))
    n = len(story_obj.scenes) if story_obj else num_sequences
    if max_scenes is not None and n > max_scenes:
        raise InvalidInput(f"{n} scenes is above your limit of {max_scenes}")
    request = {
        "prompt": sreq.prompt, "genre": sreq.genre, "num_sequences": n, "seed": seed, "sampler": sampler,
        "steps": steps, "cfg_scale": cfg_scale, "aspect": aspect, "resolution": resolution, "priority": priority,
        "story": sreq.model_dump(mode="json"),
    }
    if provider_options and provider_options.get("picture"):
        request["picture_options"] = provider_options["picture"]
    movie = Movie(owner=owner, request=request, options=opts.model_dump(mode="json"), status="queued",
                  priority=priority, webhook_url=webhook_url)
    if review is not None:  # stop after that stage, awaiting the owner's edits and render (jobs/review.py)

        try:
            movie.hold = held_after(review)
        except JobStateError as exc:
            raise InvalidInput(str(exc)) from exc
        request["review"] = review
    return state.create_movie(session, movie, story_obj.model_dump(mode="json") if story_obj else None)


def get_movie(session: Session, owner: str, movie_id: str) -> Movie | None:
    """The movie, or None when it does not exist or belongs to someone else."""
    if not movie_id or len(movie_id) > 36:
        return None
    movie = session.get(Movie, movie_id)
    return movie if movie is not None and movie.owner == owner else None


def list_movies(session: Session, owner: str, status: str | None = None, limit: int = 20, offset: int = 0) -> MoviePage:
    if status is not None and status not in MOVIE_STATUSES:
        raise InvalidInput(f"status must be one of {', '.join(MOVIE_STATUSES)}; got {status!r}")
    limit, offset = max(1, min(int(limit), 200)), max(0, int(offset))
    where = [Movie.owner == owner] + ([Movie.status == status] if status else [])
    total = session.scalar(select(func.count()).select_from(Movie).where(*where)) or 0
    items = list(session.scalars(
        select(Movie).where(*where).order_by(Movie.created_at.desc(), Movie.id).limit(limit).offset(offset)
    ))
    return MoviePage(items, int(total), limit, offset)


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


def events_after(session: Session, movie_id: str, after_id: int = 0, limit: int = 500) -> list[Event]:
    """The movie's events with id > after_id, oldest first (for server-sent events)."""
    return list(session.scalars(
        select(Event).where(Event.movie_id == movie_id, Event.id > after_id).order_by(Event.id).limit(max(1, limit))
    ))


def stages_of(session: Session, movie_id: str) -> list[Stage]:
    return list(session.scalars(select(Stage).where(Stage.movie_id == movie_id).order_by(Stage.id)))


def _iso(t: datetime | None) -> str | None:
    return t.isoformat() if t else None


def movie_view(movie: Movie, stages: list[Stage] | None = None) -> dict[str, Any]:
    """A JSON-ready picture of a movie: status, stages with progress, story, files, error."""
    stages = movie.stages if stages is None else stages
    done = sum(1 for s in stages if s.status == "succeeded")
    expected = len(stages) if movie.story else 3 * int(movie.request.get("num_sequences", 1)) + 3
    return {
        "id": movie.id,
        "owner": movie.owner,
        "title": movie.title,
        "status": movie.status,
        "priority": movie.priority,
        "request": {k: v for k, v in movie.request.items() if k != "story"},
        "created_at": _iso(movie.created_at),
        "started_at": _iso(movie.started_at),
        "finished_at": _iso(movie.finished_at),
        "seconds": movie.seconds,
        "error": movie.error,
        "progress": {"done": done, "total": max(expected, done), "fraction": round(done / max(expected, done, 1), 3)},
        "stages": [
            {"name": s.name, "scene": s.scene, "status": s.status, "attempts": s.attempts, "seconds": s.seconds,
             "cached": s.cached, "error": s.error, "artifact_key": s.artifact_key, "started_at": _iso(s.started_at),
             "finished_at": _iso(s.finished_at)}
            for s in stages
        ],
        "story": movie.story,
        "result": movie.result,
    }
