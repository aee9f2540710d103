"""What the gateway asks of the job system, in one place: reads of the job
truth (movies, stages, events) shaped for the API, and the job service's
writes (submit, cancel, retry, delete). Routes call only this module."""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path
from typing import Any

from fastapi import Path as PathParam
from sqlalchemy import case, func, select, text
from sqlalchemy.orm import Session, selectinload

from .. import db
from ..db.models import Event, Movie, Stage
from ..errors import DeepFlixError
from ..quality.qa import summary as qa_summary
from ..security import links
from .cast_view import cast_of
from .schemas import MovieCreate, MoviePublic, MovieSummary, MovieUrls, StageProgress

log = logging.getLogger("deepflix.api")

TERMINAL = ("succeeded", "failed", "cancelled", "awaiting_review")  # a progress stream ends at these
ACTIVE = ("queued", "running")
FILES = {"video": "video", "srt": "srt", "vtt": "vtt", "poster": "poster"}  # which -> CutResult field


ACTION_PATH = PathParam(pattern="^(cancel|retry)$", description="cancel or retry")


class Conflict(DeepFlixError):
    """The action does not fit the movie's state (cancel a finished film, retry a running one)."""


# --------------------------------------------------------------------------- sessions


@contextmanager
def session() -> Iterator[Session]:
    """A read session (on SQLite a deferred BEGIN: it never waits for writers)."""
    with db.read_session() as s:
        yield s


@contextmanager
def write_session() -> Iterator[Session]:
    with db.session_scope() as s:
        yield s


def user_lock_key(owner: str) -> int:
    """A stable signed 64-bit number for the user (PostgreSQL advisory locks take a bigint):
    the same in every gateway process, unlike hash(), which is salted per process."""
    return int.from_bytes(hashlib.sha256(b"deepflix.admit:" + owner.encode()).digest()[:8], "big", signed=True)


def lock_user(session: Session, owner: str) -> None:
    """Serialise admissions (submit, retry) of one user's films until this write
    transaction ends, across threads and gateways, so a quota is counted and the new
    film inserted as one step. Must come before the counting.

    PostgreSQL: a transaction-scoped advisory lock on the user (other users are not held
    up; it is released at commit or rollback). SQLite: write sessions begin with BEGIN
    IMMEDIATE (deepflix.db.session), so starting the transaction here takes the database's
    write lock, which serialises every writer."""
    bind = session.get_bind()
    if bind.dialect.name == "postgresql":
        session.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": user_lock_key(owner)})
    elif bind.dialect.name == "sqlite":
        if bind.get_execution_options().get("sqlite_begin") != "IMMEDIATE":
            raise RuntimeError("lock_user needs a write session (BEGIN IMMEDIATE); this one would not serialise")
        session.execute(text("SELECT 1"))  # the first statement opens the transaction: the write lock is ours
    else:  # no per-user lock known for this database: the count and insert may race (one film over, at worst)
        log.warning("no admission lock for database %s", bind.dialect.name)


# --------------------------------------------------------------------------- shaping


def urls(movie_id: str, owner: str | None = None) -> MovieUrls:
    """The film's URLs. Given its owner (a finished film), the media URLs are signed
    links (security/links.py) that a <video> or <img> can open without the key."""
    base = f"/api/movies/{movie_id}"

    def media(path: str, file: str) -> str:
        return links.signed(f"{base}/{path}", movie_id, file, owner) if owner else f"{base}/{path}"

    return MovieUrls(
        self=base, events=f"{base}/events", video=media("video", "video"),
        subtitles_srt=media("subtitles.srt", "srt"), subtitles_vtt=media("subtitles.vtt", "vtt"),
        poster=media("poster.jpg", "poster"), cancel=f"{base}/cancel", retry=f"{base}/retry",
    )


def finished_owner(movie: Movie | dict[str, Any]) -> str | None:
    """The owner, for signing media links, when the film is finished (else None)."""
    status, owner = (movie["status"], movie["owner"]) if isinstance(movie, dict) else (movie.status, movie.owner)
    result = movie.get("result") if isinstance(movie, dict) else movie.result
    # a film being re-rendered keeps its previous version's media until the new cut replaces them
    return str(owner) if status == "succeeded" or result else None


def _scenes(movie: Movie | dict[str, Any]) -> int:
    story = movie["story"] if isinstance(movie, dict) else movie.story
    request = movie["request"] if isinstance(movie, dict) else movie.request
    if story and story.get("scenes"):
        return len(story["scenes"])
    return int(request.get("num_sequences") or request.get("num_scenes") or 1)


def expected_stages(n_scenes: int, story: dict[str, Any] | None = None) -> dict[str, int]:
    """Rows a film will have, by stage (per-scene rows appear once the story is written)."""
    from ..film.plan import current
    from ..models import Story

    return current().expected(n_scenes, Story.model_validate(story) if story else None)


def progress_of(status: str, done: int, n_scenes: int, story: dict[str, Any] | None = None) -> float:
    if status == "succeeded":
        return 1.0
    total = sum(expected_stages(n_scenes, story).values())
    return round(min(done, total) / total, 4)


def movie_dict(m: Movie) -> dict[str, Any]:
    return {
        "id": m.id, "owner": m.owner, "status": m.status, "title": m.title,
        "request": {k: v for k, v in (m.request or {}).items() if k != "story"},  # "story": the job's own copy
        "story": m.story, "error": m.error, "result": m.result, "priority": m.priority,
        "created_at": m.created_at, "started_at": m.started_at, "finished_at": m.finished_at,
        "stages": [
            {"name": s.name, "scene": s.scene, "status": s.status, "attempts": s.attempts, "seconds": s.seconds,
             "error": s.error, "provider": s.provider, "artifact_key": s.artifact_key}
            for s in m.stages
        ],
    }


def _stage_status(statuses: list[str]) -> str:
    for st in ("failed", "running", "queued", "ready"):
        if st in statuses:
            return "queued" if st == "ready" else st
    if statuses and all(s == "succeeded" for s in statuses):
        return "succeeded"
    if "cancelled" in statuses:
        return "cancelled"
    return "waiting"


def stage_progress(movie: dict[str, Any]) -> list[StageProgress]:
    from ..film.plan import current

    expected = expected_stages(_scenes(movie), movie["story"])
    out = []
    for name in current().names:
        rows = [s for s in movie["stages"] if s["name"] == name]
        statuses = [s["status"] for s in rows]
        done = statuses.count("succeeded")
        total = max(expected[name], len(rows))
        if total == 0 and current()[name].when is not None:
            continue  # a stage only some scenes have (clips), which this film has none of
        status = _stage_status(statuses)
        if movie["status"] == "cancelled" and status == "waiting":
            status = "cancelled"
        errors = [s["error"] for s in rows if s["status"] == "failed" and s["error"]]
        secs = [s["seconds"] for s in rows if s["seconds"] is not None]
        out.append(StageProgress(
            name=name, status=status, done=done, total=total, progress=round(done / total, 4) if total else 0.0,
            attempts=max((s["attempts"] for s in rows), default=0), seconds=round(sum(secs), 3) if secs else None,
            error=errors[0] if errors else None,
        ))
    return out


def movie_public(movie: dict[str, Any]) -> MoviePublic:
    done = sum(1 for s in movie["stages"] if s["status"] == "succeeded")
    u = urls(movie["id"], finished_owner(movie))
    artifacts: dict[str, str] = {}
    if movie["status"] == "succeeded" or movie.get("result"):  # (a re-render keeps the previous cut's files)
        artifacts = {"video": u.video, "subtitles_srt": u.subtitles_srt, "subtitles_vtt": u.subtitles_vtt,
                     "poster": u.poster}
    report = (movie.get("result") or {}).get("qa")
    if report is not None:
        artifacts["qa"] = f"{u.self}/qa"  # the whole report (routes/quality.py)
    for s in movie["stages"]:
        if s["name"] == "picture" and s["status"] == "succeeded" and s["scene"] is not None:
            artifacts[f"picture_{s['scene']}"] = links.signed(
                f"{u.self}/scenes/{s['scene']}/picture", movie["id"], f"picture:{s['scene']}", movie["owner"]
            ) + f"&v={str(s['artifact_key'] or '')[:12]}"  # a redrawn picture gets a new address (no stale cache)
    return MoviePublic(
        id=movie["id"], status=movie["status"], progress=progress_of(movie["status"], done, _scenes(movie), movie["story"]),
        created_at=movie["created_at"], started_at=movie["started_at"], finished_at=movie["finished_at"],
        request=movie["request"], stages=stage_progress(movie), story=movie["story"], title=movie["title"],
        error=movie["error"], urls=u, artifacts=artifacts, qa=qa_summary(report) if report is not None else None,
        cast=cast_of(movie),
    )


# --------------------------------------------------------------------------- reads


def get_movie_for_link(movie_id: str) -> dict[str, Any] | None:
    """A film by id whoever owns it: only for checking a signed link, which names its owner."""
    with session() as s:
        m = s.scalars(select(Movie).options(selectinload(Movie.stages)).where(Movie.id == movie_id)).one_or_none()
        return movie_dict(m) if m is not None else None


def get_movie(session: Session, owner: str, movie_id: str) -> dict[str, Any] | None:
    m = session.scalars(
        select(Movie).options(selectinload(Movie.stages)).where(Movie.id == movie_id, Movie.owner == owner)
    ).one_or_none()
    return movie_dict(m) if m is not None else None


def list_movies(session: Session, owner: str, *, status: str | None, limit: int,
                offset: int) -> tuple[list[MovieSummary], int]:
    where = [Movie.owner == owner] + ([Movie.status == status] if status else [])
    total = session.scalar(select(func.count()).select_from(Movie).where(*where)) or 0
    movies = list(session.scalars(
        select(Movie).where(*where).order_by(Movie.created_at.desc(), Movie.id).limit(limit).offset(offset)
    ))
    done: dict[str, int] = {}
    if movies:
        done = dict(session.execute(  # type: ignore[arg-type]
            select(Stage.movie_id, func.sum(case((Stage.status == "succeeded", 1), else_=0)))
            .where(Stage.movie_id.in_([m.id for m in movies])).group_by(Stage.movie_id)
        ).all())
    items = [
        MovieSummary(
            id=m.id, status=m.status, progress=progress_of(m.status, int(done.get(m.id) or 0), _scenes(m)),
            title=m.title, prompt=str(m.request.get("prompt", "")), genre=str(m.request.get("genre", "")),
            created_at=m.created_at, finished_at=m.finished_at, error=m.error, urls=urls(m.id, finished_owner(m)),
        )
        for m in movies
    ]
    return items, int(total)


def count_active(session: Session, owner: str) -> int:
    return int(session.scalar(
        select(func.count()).select_from(Movie).where(Movie.owner == owner, Movie.status.in_(ACTIVE))
    ) or 0)


def count_since(session: Session, owner: str, since: datetime) -> tuple[int, datetime | None]:
    """Films the owner started since then, and when the oldest of them started."""
    n, oldest = session.execute(
        select(func.count(), func.min(Movie.created_at)).where(Movie.owner == owner, Movie.created_at >= since)
    ).one()
    if oldest is not None and oldest.tzinfo is None:  # func.min bypasses UTCDateTime on SQLite
        from datetime import UTC

        oldest = oldest.replace(tzinfo=UTC)
    return int(n or 0), oldest


def events_after(owner: str, movie_id: str, after: int, limit: int = 500) -> tuple[list[dict[str, Any]], str | None]:
    """Events after id ``after`` and the movie's status (None when it is gone), in one short session."""
    with session() as s:
        status = s.scalar(select(Movie.status).where(Movie.id == movie_id, Movie.owner == owner))
        if status is None:
            return [], None
        rows = s.scalars(
            select(Event).where(Event.movie_id == movie_id, Event.id > after).order_by(Event.id).limit(limit)
        )
        events = [{"id": e.id, "type": e.kind, "data": e.as_dict()} for e in rows]
    return events, status


FILE_LABELS = {"video": "movie", "srt": "srt", "vtt": "vtt", "poster": "poster"}  # which -> job result's files


def _stored_result(key: str) -> dict[str, Any]:
    """A stage's result model as stored (the runner keeps it under "result" in result.json)."""
    from ..storage import open_store

    stored = open_store().load_result(key) or {}
    inner = stored.get("result")
    return inner if isinstance(inner, dict) else stored


def _local(key: str, name: str) -> Path | None:
    from ..storage import open_store

    try:
        return open_store().local_path(key, name)
    except (FileNotFoundError, OSError):
        return None


def artifact_path(movie: dict[str, Any], which: str) -> Path | None:
    """A local file of the finished film (fetched first when the store is remote), or None.
    The job's result names the files; failing that, the cut stage's stored result does."""
    ref = ((movie.get("result") or {}).get("files") or {}).get(FILE_LABELS[which])
    if isinstance(ref, dict) and ref.get("key") and ref.get("name"):
        return _local(str(ref["key"]), str(ref["name"]))
    key = next((s["artifact_key"] for s in movie["stages"] if s["name"] == "cut" and s["status"] == "succeeded"
                and s["artifact_key"]), None)
    if key is None:
        return None
    name = _stored_result(key).get(FILES[which])
    return _local(key, str(name)) if name else None


def scene_picture_path(movie: dict[str, Any], scene: int) -> Path | None:
    key = next((s["artifact_key"] for s in movie["stages"] if s["name"] == "picture" and s["scene"] == scene
                and s["status"] == "succeeded" and s["artifact_key"]), None)
    if key is None:
        return None
    name = _stored_result(key).get("image")
    return _local(key, str(name)) if name else None


# --------------------------------------------------------------------------- writes (the job service)


def check_provider(stage: str, name: str) -> None:
    """UnknownProviderError unless a provider with that full id is registered for the
    stage (the API takes full ids only, the ones its spec lists)."""
    from ..errors import UnknownProviderError
    from ..plugins import providers

    known = providers(stage)
    if name not in known:
        raise UnknownProviderError(f"no {stage} provider named {name!r}; installed: {', '.join(sorted(known)) or 'none'}")


def provider_ids() -> dict[str, list[str]]:
    from ..plugins import providers, stages

    return {st: sorted(providers(st)) for st in stages()}


def submit_movie(session: Session, owner: str, body: MovieCreate,
                 picture_options: dict[str, Any] | None = None) -> dict[str, Any]:
    """Queue the film (a write session: its stage messages go out when it commits).
    ``picture_options``: the body's, as picture_options.check let them through."""
    from ..jobs import service

    fields = body.model_dump(exclude={"userId", "providers", "picture_options"})
    movie = service.submit_movie(session, owner, providers=dict(body.providers) or None, **fields,
                                 provider_options={"picture": picture_options} if picture_options else None)
    return {"id": movie.id, "status": movie.status}


def _state_change(action: str, owner: str, movie_id: str,
                  admit: Callable[[Session], None] | None = None) -> dict[str, Any] | None:
    """``admit`` (the retry's quota check) runs in the same transaction, under lock_user,
    so it and the change are one step (it raises to refuse)."""
    from ..jobs import service

    fn = {"cancel": service.cancel_movie, "retry": service.retry_movie, "delete": service.delete_movie}[action]
    with write_session() as s:
        if admit is not None:
            lock_user(s, owner)
            admit(s)
        try:
            out = fn(s, owner, movie_id)
        except service.JobStateError as exc:
            raise Conflict(str(exc)) from exc
        if not out:
            return None
    if action == "delete":
        return {"id": movie_id, "status": "deleted"}
    with session() as s:
        return get_movie(s, owner, movie_id)


def cancel_movie(owner: str, movie_id: str) -> dict[str, Any] | None:
    return _state_change("cancel", owner, movie_id)


def retry_movie(owner: str, movie_id: str, admit: Callable[[Session], None] | None = None) -> dict[str, Any] | None:
    return _state_change("retry", owner, movie_id, admit)


def delete_movie(owner: str, movie_id: str) -> dict[str, Any] | None:
    return _state_change("delete", owner, movie_id)


# --------------------------------------------------------------------------- metrics


def metrics_snapshot() -> dict[str, Any]:
    """Counts for /metrics (see metrics.py), read in one short session plus the broker."""
    from .metrics import STAGE_BUCKETS

    with session() as s:
        jobs = {status: 0 for status in ("queued", "running", "awaiting_review", "succeeded", "failed", "cancelled")}
        jobs.update({st: int(n) for st, n in s.execute(select(Movie.status, func.count()).group_by(Movie.status))})
        stages = {(name, st): int(n) for name, st, n in
                  s.execute(select(Stage.name, Stage.status, func.count()).group_by(Stage.name, Stage.status))}
        cols = [func.sum(case((Stage.seconds <= b, 1), else_=0)) for b in STAGE_BUCKETS]
        durations = {}
        for row in s.execute(
            select(Stage.name, func.count(), func.sum(Stage.seconds), *cols)
            .where(Stage.status == "succeeded", Stage.seconds.is_not(None), Stage.cached.is_(False))
            .group_by(Stage.name)
        ):
            durations[row[0]] = ([int(x or 0) for x in row[3:]], int(row[1]), float(row[2] or 0.0))
        errors = {(name, prov): int(n) for name, prov, n in s.execute(
            select(Stage.name, Stage.provider, func.count()).where(Stage.status == "failed")
            .group_by(Stage.name, Stage.provider)
        )}
    return {"jobs": jobs, "stages": stages, "durations": durations, "errors": errors, "queues": queue_depths()}


def queue_depths() -> dict[str, dict[str, int]]:
    """Messages waiting (queued + delayed) and dead per broker queue; {} without a broker."""
    try:
        from ..jobs.reconciler import queue_depths as depths

        raw = depths()
    except Exception as exc:
        log.debug("no queue depths: %s", type(exc).__name__)
        return {}
    return {q: {"waiting": d.get("queued", 0) + d.get("delayed", 0), "dead": d.get("dead", 0)} for q, d in raw.items()}
