"""From the database to the queue: which ready stages are sent, and when.

A stage is sent only after the transaction that marked it ``queued`` commits
(a per-session outbox flushed by an ``after_commit`` hook), so a worker never
sees a stage the database does not have yet. If the process dies between the
commit and the send, the reconciler finds the stage queued with no message
and sends it again.

Fairness: each owner may have at most ``owner_inflight`` stages queued or
running per queue kind (gpu, cpu). Stages beyond that wait as ``ready`` in the
database and are sent as the owner's earlier ones finish, so one user's 100
films occupy a bounded slice of the queue and everybody else's work enters
right behind it. Among ready stages: higher priority first, then older films,
then stage order (speech before pictures: the score waits on speech).
"""

from __future__ import annotations

import logging
from collections import defaultdict
from typing import Any

from sqlalchemy import case, event, func, select, text, update
from sqlalchemy.orm import Session

from ..db.base import rowcount, utcnow
from ..db.models import Event, Movie, Stage
from .broker import get_broker, stage_message
from .settings import job_settings

log = logging.getLogger("deepflix.jobs")

_DISPATCH_LOCK = 0x6466_6470  # PostgreSQL advisory lock id: one dispatcher at a time
_OUTBOX = "deepflix_outbox"


# --------------------------------------------------------------------------- outbox


def send_after_commit(session: Session, message: Any) -> None:
    session.info.setdefault(_OUTBOX, []).append(message)


@event.listens_for(Session, "after_commit")
def _flush_outbox(session: Session) -> None:
    messages = session.info.pop(_OUTBOX, None)
    if not messages:
        return
    try:
        broker = get_broker()
        for msg in messages:
            broker.enqueue(msg)
    except Exception as exc:  # the reconciler re-sends what did not go out
        log.warning("could not send %d stage message(s) (%s); the reconciler will", len(messages), exc)


@event.listens_for(Session, "after_rollback")
def _drop_outbox(session: Session) -> None:
    session.info.pop(_OUTBOX, None)


# --------------------------------------------------------------------------- helpers


def is_postgres(session: Session) -> bool:
    return session.get_bind().dialect.name == "postgresql"


def lock_movie(session: Session, movie_id: str) -> Movie | None:
    """The movie row, locked until commit, so its transitions run one at a time.

    PostgreSQL: SELECT ... FOR UPDATE. SQLite: write sessions already began with
    BEGIN IMMEDIATE (db/session.py), which holds the database's write lock."""
    stmt = select(Movie).where(Movie.id == movie_id).execution_options(populate_existing=True)
    if is_postgres(session):
        stmt = stmt.with_for_update()
    return session.execute(stmt).scalar_one_or_none()


def add_event(session: Session, movie_id: str, kind: str, *, stage: str | None = None, scene: int | None = None,
              message: str = "", data: dict[str, Any] | None = None) -> None:
    session.add(Event(movie_id=movie_id, kind=kind, stage=stage, scene=scene, message=message, data=data))


_RANK = case({"high": 0, "normal": 1}, value=Movie.priority, else_=2)


# --------------------------------------------------------------------------- dispatch


def dispatch(session: Session, owner: str | None = None) -> int:
    """Send ready stages, within each owner's cap. Returns how many were queued.

    Candidates are chosen per owner (each owner's oldest ready stages, as many as
    its room under the cap), never from one global "oldest first" list: a backlog
    of one owner's ready stages can then never hide anybody else's. ``owner``: only
    that owner's (a submission makes stages ready for its owner alone, and nobody
    else's room changes), so a submission reads its owner's rows, not every film's."""
    if is_postgres(session):
        session.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": _DISPATCH_LOCK})
    cap = job_settings().owner_inflight
    mine = [Movie.owner == owner] if owner is not None else []
    room: dict[tuple[str, str], int] = defaultdict(lambda: cap)
    for who, queue, n in session.execute(
        select(Movie.owner, Stage.queue, func.count())
        .join(Movie, Movie.id == Stage.movie_id)
        .where(Stage.status.in_(("queued", "running")), *mine)
        .group_by(Movie.owner, Stage.queue)
    ):
        room[(who, queue.split(".")[0])] -= n
    waiting: dict[tuple[str, str], list[str]] = defaultdict(list)
    for who, queue in session.execute(
        select(Movie.owner, Stage.queue).distinct()
        .join(Movie, Movie.id == Stage.movie_id)
        .where(Stage.status == "ready", Movie.status.in_(("queued", "running")), *mine)
    ):
        waiting[(who, queue.split(".")[0])].append(queue)
    candidates: list[Any] = []
    for (who, kind), queues in waiting.items():
        if room[(who, kind)] <= 0:
            continue
        candidates += session.execute(
            select(Stage.id, Stage.name, Stage.scene, Movie.id, Movie.owner, Movie.priority, _RANK, Movie.created_at)
            .join(Movie, Movie.id == Stage.movie_id)
            .where(Stage.status == "ready", Movie.status.in_(("queued", "running")), Movie.owner == who,
                   Stage.queue.in_(queues))
            .order_by(_RANK, Movie.created_at, Movie.id, Stage.id)
            .limit(room[(who, kind)])
        ).all()
    candidates.sort(key=lambda r: (r[6], r[7], r[3], r[0]))  # priority, then oldest film, then stage order
    sent = 0
    now = utcnow()
    for stage_id, name, scene, movie_id, _owner, priority, _rank, _created in candidates:
        msg = stage_message(movie_id, stage_id, name, priority)
        res = session.execute(
            update(Stage)
            .where(Stage.id == stage_id, Stage.status == "ready")
            .values(status="queued", message_id=msg.message_id, queued_at=now)
        )
        if rowcount(res) != 1:
            continue
        add_event(session, movie_id, "stage_queued", stage=name, scene=scene, message=msg.queue_name)
        send_after_commit(session, msg)
        sent += 1
    return sent


def resend(session: Session, stage: Stage, movie: Movie, reason: str) -> None:
    """Send a new message for a stage that no live message carries."""
    msg = stage_message(movie.id, stage.id, stage.name, movie.priority)
    stage.status = "queued"
    stage.message_id = msg.message_id
    stage.queued_at = utcnow()
    add_event(session, movie.id, "stage_resent", stage=stage.name, scene=stage.scene, message=reason)
    send_after_commit(session, msg)
