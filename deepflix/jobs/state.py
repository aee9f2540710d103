"""A movie's state machine, as transactions over its rows.

Every transition of one movie first locks the movie row (dispatch.lock_movie),
so the transitions of one movie run one at a time: in particular the fan-ins
(score and segments once every scene's picture and speech is done; the cut
once the score and every segment is done) are conditional UPDATEs
``waiting -> ready WHERE no dependency is unfinished``, run under that lock,
and so happen exactly once however many workers finish scenes at once.
Callers own the session and commit it (the stage messages go out on commit).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import exists, select, update
from sqlalchemy.orm import Session, aliased

from ..db.base import rowcount, utcnow
from ..db.models import ACTIVE_STAGE, OPEN_STAGE, Movie, Stage
from ..film.options import FilmOptions
from ..film.plan import FINAL, STORY, current, film_story
from ..models import Story
from .broker import notify_message, queue_for
from .dispatch import add_event, dispatch, lock_movie, send_after_commit


@dataclass
class Job:
    """What a worker needs to run one stage: a snapshot taken when it claimed it."""

    movie_id: str
    stage_id: int
    stage: str
    scene: int | None
    attempts: int
    priority: str
    request: dict[str, Any]
    options: dict[str, Any]
    story: dict[str, Any] | None
    keys: dict[str, list[str | None]] = field(default_factory=dict)  # finished stages' keys, by scene
    warnings: list[dict[str, Any]] = field(default_factory=list)  # the rows the film goes on without


@dataclass
class Done:
    key: str
    cached: bool
    seconds: float
    provider: str
    story: dict[str, Any] | None = None  # story stage: the story; cut: the timed story
    result: dict[str, Any] | None = None  # cut: the film's files and keys


def new_stage(movie: Movie, name: str, scene: int | None, status: str) -> Stage:
    return Stage(movie_id=movie.id, name=name, scene=scene, status=status,
                 queue=queue_for(name, movie.priority), attempts=0, cached=False)


def create_movie(session: Session, movie: Movie, story: dict[str, Any] | None = None) -> Movie:
    """Insert a movie with its first stage ready (or, given a story, its scenes)."""
    session.add(movie)
    session.flush()
    add_event(session, movie.id, "submitted", message=movie.request.get("prompt", "")[:200])
    if story is None:
        session.add(new_stage(movie, STORY, None, "ready"))
    else:  # a story a person wrote: the story stage is done already
        st = new_stage(movie, STORY, None, "succeeded")
        st.cached, st.provider, st.finished_at = True, "story file", utcnow()
        session.add(st)
        _story_done(session, movie, _film_story(movie, story))
        session.flush()
        advance(session, movie)  # a stage that needs one with no rows (a story without characters) is ready now
    session.flush()
    pause_for_review(session, movie)
    dispatch(session, movie.owner)  # only this owner's stages became ready
    return movie


def _film_story(movie: Movie, story: dict[str, Any]) -> dict[str, Any]:
    """The story as the film makes it (the scenes chosen as clips marked), once, when it is first known."""
    parsed = Story.model_validate(story)
    made = film_story(parsed, FilmOptions.model_validate(movie.options))
    return story if made is parsed else made.model_dump(mode="json")


def _story_done(session: Session, movie: Movie, story: dict[str, Any]) -> None:
    """The fan-out: a row for every stage of the plan after the story (per scene,
    per character or once), ready when it needs only the story, else waiting."""
    movie.story = story
    movie.title = str(story.get("title", ""))[:200] or None
    n = len(story["scenes"])
    plan, parsed = current(), Story.model_validate(story)
    held = set(movie.hold or ())  # review before render: these wait for the owner (jobs/review.py)
    rows = []
    for st in plan:
        if st.name == STORY:
            continue
        status = "ready" if plan.starts_ready(st.name) and st.name not in held else "waiting"
        rows += [new_stage(movie, st.name, i if st.per != "film" else None, status) for i in st.indices(parsed)]
    session.add_all(rows)
    session.flush()
    add_event(session, movie.id, "story", stage="story", message=movie.title or "", data={"scenes": n})


def _webhook(session: Session, movie: Movie) -> None:
    if movie.webhook_url:
        send_after_commit(session, notify_message(movie.id))


def _keys(session: Session, movie_id: str) -> tuple[dict[str, list[str | None]], list[dict[str, Any]]]:
    """Finished rows' keys by stage, in index order (None where a scene has no row, or its row was
    left out), and the warnings of the rows left out (succeeded without an artifact: see fall_back)."""
    out: dict[str, dict[int, str | None]] = {}
    warnings = []
    for name, scene, key, error in session.execute(
        select(Stage.name, Stage.scene, Stage.artifact_key, Stage.error)
        .where(Stage.movie_id == movie_id, Stage.status == "succeeded").order_by(Stage.name, Stage.scene)
    ):
        out.setdefault(name, {})[scene if scene is not None else 0] = key
        if key is None and error:
            warnings.append({"stage": name, "scene": scene, "message": error})
    return {name: [d.get(i) for i in range(max(d) + 1)] for name, d in out.items()}, warnings


def claim(session: Session, movie_id: str, stage_id: int, worker: str, max_attempts: int) -> Job | None:
    """Mark a stage running and count the attempt. None when there is nothing to
    run: the stage is finished or cancelled (a stale or duplicate message), or it
    has used up its attempts (then it is failed here)."""
    movie = lock_movie(session, movie_id)
    if movie is None or movie.status not in ("queued", "running"):
        return None
    now = utcnow()
    res = session.execute(
        update(Stage)
        .where(Stage.id == stage_id, Stage.movie_id == movie_id, Stage.status.in_(("queued", "running")))
        .values(status="running", attempts=Stage.attempts + 1, worker=worker[:128], started_at=now)
    )
    if rowcount(res) != 1:
        return None
    st = session.execute(select(Stage).where(Stage.id == stage_id).execution_options(populate_existing=True)).scalar_one()
    st.provider = str((movie.options.get("providers") or {}).get(st.name, ""))[:80] or None
    if st.attempts > max_attempts:
        last = f" (last error: {st.error})" if st.error else " (its worker died each time)"
        fail_stage(session, movie_id, stage_id, f"gave up after {max_attempts} attempts{last}", locked=movie)
        return None
    if movie.status == "queued":
        movie.status = "running"
    movie.started_at = movie.started_at or now
    add_event(session, movie_id, "stage_started", stage=st.name, scene=st.scene,
              data={"attempt": st.attempts, "worker": worker})
    keys, warnings = _keys(session, movie_id)
    return Job(movie_id=movie_id, stage_id=stage_id, stage=st.name, scene=st.scene, attempts=st.attempts,
               priority=movie.priority, request=dict(movie.request), options=dict(movie.options),
               story=movie.story, keys=keys, warnings=warnings)


def finish(session: Session, movie_id: str, stage_id: int, done: Done) -> bool:
    """Record a finished stage, fan in, and send what became ready.
    False when the stage was no longer running (finished by a duplicate, or cancelled)."""
    movie = lock_movie(session, movie_id)
    if movie is None:
        return False
    now = utcnow()
    res = session.execute(
        update(Stage)
        .where(Stage.id == stage_id, Stage.status == "running")
        .values(status="succeeded", artifact_key=done.key, cached=done.cached, seconds=round(done.seconds, 3),
                provider=done.provider, finished_at=now, error=None)
    )
    if rowcount(res) != 1:
        return False
    st = session.get(Stage, stage_id)
    assert st is not None
    add_event(session, movie_id, "stage_done", stage=st.name, scene=st.scene,
              data={"seconds": round(done.seconds, 3), "cached": done.cached, "key": done.key})
    if st.name == STORY:
        assert done.story is not None
        _story_done(session, movie, _film_story(movie, done.story))
    elif st.name == FINAL:
        movie.story = done.story or movie.story
        movie.result = done.result
        movie.status, movie.finished_at, movie.error = "succeeded", now, None
        add_event(session, movie_id, "movie_done", message=movie.title or "", data=done.result)
        _webhook(session, movie)
    advance(session, movie)
    pause_for_review(session, movie)
    dispatch(session)
    return True


def pause_for_review(session: Session, movie: Movie) -> bool:
    """A movie with held stages and nothing else to run waits for its owner
    (awaiting_review): it holds no worker and no concurrency slot meanwhile."""
    if not movie.hold or movie.status not in ("queued", "running"):
        return False
    session.flush()
    busy = session.scalar(select(Stage.id).where(Stage.movie_id == movie.id, Stage.status.in_(ACTIVE_STAGE)).limit(1))
    if busy is not None:
        return False
    movie.status = "awaiting_review"
    add_event(session, movie.id, "awaiting_review", message=movie.title or "", data={"held": list(movie.hold)})
    return True


def advance(session: Session, movie: Movie) -> int:
    """The fan-ins: waiting stages whose inputs are all done become ready.
    Run under the movie's lock; the conditional UPDATE makes each happen once."""
    n = 0
    held = set(movie.hold or ())
    for targets, deps in current().fan_ins():
        targets = tuple(t for t in targets if t not in held)
        if not targets:
            continue
        dep = aliased(Stage)
        unfinished = exists(
            select(dep.id).where(dep.movie_id == movie.id, dep.name.in_(deps), dep.status != "succeeded")
        )
        res = session.execute(
            update(Stage)
            .where(Stage.movie_id == movie.id, Stage.name.in_(targets), Stage.status == "waiting", ~unfinished)
            .values(status="ready")
            .execution_options(synchronize_session=False)
        )
        if rowcount(res):
            n += rowcount(res)
            add_event(session, movie.id, "fan_in", stage=targets[0], data={"ready": list(targets), "count": rowcount(res)})
    return n


def fail_stage(session: Session, movie_id: str, stage_id: int, error: str, *, locked: Movie | None = None) -> bool:
    """A stage failed for good: the movie fails, its other open stages are cancelled,
    finished work is kept for a retry."""
    movie = locked or lock_movie(session, movie_id)
    if movie is None:
        return False
    row = session.get(Stage, stage_id)
    if row is not None and row.name in current() and row.scene is not None \
            and current()[row.name].falls_back(FilmOptions.model_validate(movie.options)):
        return fall_back(session, movie, row, error)
    now = utcnow()
    res = session.execute(
        update(Stage)
        .where(Stage.id == stage_id, Stage.status.in_(("queued", "running")))
        .values(status="failed", error=error[:4000], finished_at=now)
    )
    if rowcount(res) != 1:
        return False
    st = session.get(Stage, stage_id)
    assert st is not None
    label = st.name if st.scene is None else f"{st.name} (scene {st.scene + 1})"
    session.execute(
        update(Stage).where(Stage.movie_id == movie_id, Stage.id != stage_id, Stage.status.in_(OPEN_STAGE))
        .values(status="cancelled").execution_options(synchronize_session=False)
    )
    movie.status, movie.finished_at = "failed", now
    movie.error = f"{label} failed: {error}"[:4000]
    add_event(session, movie_id, "stage_failed", stage=st.name, scene=st.scene, message=error[:2000])
    add_event(session, movie_id, "movie_failed", message=movie.error)
    _webhook(session, movie)
    return True


def fall_back(session: Session, movie: Movie, row: Stage, error: str) -> bool:
    """A row the plan lets fail (a clip): it ends succeeded with no artifact and a warning
    (its ``error``), and the film goes on without it: the stages that need it do without."""
    spec = current()[row.name]
    message = f"scene {row.scene + 1 if row.scene is not None else 1}: {spec.label.lower()} failed ({error[:300]}); " \
              f"{spec.fallback}"
    res = session.execute(
        update(Stage).where(Stage.id == row.id, Stage.status.in_(("queued", "running")))
        .values(status="succeeded", artifact_key=None, cached=False, error=message[:4000], finished_at=utcnow())
    )
    if rowcount(res) != 1:
        return False
    add_event(session, movie.id, "stage_fallback", stage=row.name, scene=row.scene, message=message[:2000])
    advance(session, movie)
    pause_for_review(session, movie)
    dispatch(session)
    return True


def retry_later(session: Session, movie_id: str, stage_id: int, error: str, delay: float) -> bool:
    """A transient failure: the stage goes back to queued; Dramatiq re-delivers it after a backoff."""
    if lock_movie(session, movie_id) is None:
        return False
    res = session.execute(
        update(Stage).where(Stage.id == stage_id, Stage.status == "running").values(status="queued", error=error[:4000])
    )
    if rowcount(res) == 1:
        st = session.get(Stage, stage_id)
        assert st is not None
        add_event(session, movie_id, "stage_retry", stage=st.name, scene=st.scene, message=error[:2000],
                  data={"attempt": st.attempts, "delay": round(delay, 1)})
    return bool(rowcount(res))


def cancel(session: Session, movie_id: str) -> bool:
    movie = lock_movie(session, movie_id)
    if movie is None or movie.status not in ("queued", "running"):
        return False
    session.execute(
        update(Stage).where(Stage.movie_id == movie_id, Stage.status.in_(OPEN_STAGE))
        .values(status="cancelled").execution_options(synchronize_session=False)
    )
    movie.status, movie.finished_at = "cancelled", utcnow()
    add_event(session, movie_id, "movie_cancelled")
    return True


def retry(session: Session, movie_id: str) -> bool:
    """Run a failed or cancelled movie again from its stored work: only the stages
    that did not finish run again, each with fresh attempts."""
    movie = lock_movie(session, movie_id)
    if movie is None or movie.status not in ("failed", "cancelled"):
        return False
    plan = current()
    for st in session.scalars(select(Stage).where(Stage.movie_id == movie_id, Stage.status.in_(("failed", "cancelled")))):
        st.status = "ready" if plan.starts_ready(st.name) and st.name not in (movie.hold or ()) else "waiting"
        st.attempts, st.error = 0, None
    movie.status, movie.error, movie.finished_at = "queued", None, None
    session.flush()
    add_event(session, movie_id, "movie_retried")
    advance(session, movie)
    pause_for_review(session, movie)
    dispatch(session)
    return True
