"""Numbers for the operators' board and /metrics: jobs by state, stage
durations, queue depth, workers online, dead letters."""

from __future__ import annotations

import logging
from datetime import timedelta
from typing import Any

from sqlalchemy import case, func, select
from sqlalchemy.orm import Session

from ..db import read_session
from ..db.base import utcnow
from ..db.models import MOVIE_STATUSES, STAGE_STATUSES, Movie, Stage
from ..film.plan import current
from .broker import get_broker
from .reconciler import dead_letters, queue_depths, workers_online

log = logging.getLogger("deepflix.jobs")


def _quantile(sorted_values: list[float], q: float) -> float:
    if not sorted_values:
        return 0.0
    i = min(len(sorted_values) - 1, max(0, round(q * (len(sorted_values) - 1))))
    return sorted_values[i]


def stage_durations(session: Session, hours: float = 24.0, per_stage: int = 2000) -> dict[str, dict[str, float]]:
    """Compute seconds of stages finished in the last ``hours`` (cache hits excluded)."""
    since = utcnow() - timedelta(hours=hours)
    out: dict[str, dict[str, float]] = {}

    for name in current().names:
        values = sorted(
            float(v or 0.0) for v in session.scalars(
                select(Stage.seconds).where(Stage.name == name, Stage.status == "succeeded", Stage.cached.is_(False),
                                            Stage.finished_at >= since, Stage.seconds.is_not(None))
                .order_by(Stage.finished_at.desc()).limit(per_stage)
            )
        )
        out[name] = {
            "count": len(values),
            "sum": round(sum(values), 3),
            "mean": round(sum(values) / len(values), 3) if values else 0.0,
            "p50": round(_quantile(values, 0.5), 3),
            "p95": round(_quantile(values, 0.95), 3),
            "max": round(values[-1], 3) if values else 0.0,
        }
    return out


def queue_stats(session: Session, broker: Any = None, dead_letter_limit: int = 20) -> dict[str, Any]:
    """Everything the queue board shows. The broker part says so when Redis is unreachable."""
    movies = {s: 0 for s in MOVIE_STATUSES}
    for status, n in session.execute(select(Movie.status, func.count()).group_by(Movie.status)):
        movies[status] = int(n)
    stages: dict[str, dict[str, int]] = {}
    for name, status, n in session.execute(select(Stage.name, Stage.status, func.count()).group_by(Stage.name, Stage.status)):
        stages.setdefault(name, {s: 0 for s in STAGE_STATUSES})[status] = int(n)
    failed_attempts = session.scalar(select(func.coalesce(func.sum(Stage.attempts - 1), 0)).where(Stage.attempts > 1))
    out: dict[str, Any] = {
        "movies": movies,
        "stages": stages,
        "retried_attempts": int(failed_attempts or 0),
        "stage_seconds": stage_durations(session),
    }
    try:
        if broker is None:
            broker = get_broker()
        out["queues"] = queue_depths(broker)
        out["workers"] = workers_online(broker)
        letters = dead_letters(broker, limit=dead_letter_limit)
        out["dead_letters"] = {"count": sum(q["dead"] for q in out["queues"].values()), "latest": letters}
        out["broker"] = {"ok": True}
    except Exception as exc:  # Redis down: the database part still answers
        out["broker"] = {"ok": False, "error": f"{type(exc).__name__}: {exc}"[:300]}
    return out


def metrics_snapshot(buckets: tuple[float, ...]) -> dict[str, Any]:
    """Counts for /metrics (api/metrics.py), read in one short session plus the broker:
    films and stage rows by state, finished stages' compute time in ``buckets``, failures
    by provider, messages waiting and dead per queue."""
    with read_session() as s:
        jobs = {status: 0 for status in MOVIE_STATUSES}
        jobs.update({st: int(n) for st, n in s.execute(select(Movie.status, func.count()).group_by(Movie.status))})
        stages = {(name, st): int(n) for name, st, n in
                  s.execute(select(Stage.name, Stage.status, func.count()).group_by(Stage.name, Stage.status))}
        cols = [func.sum(case((Stage.seconds <= b, 1), else_=0)) for b in buckets]
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
    return {"jobs": jobs, "stages": stages, "durations": durations, "errors": errors, "queues": _waiting_and_dead()}


def _waiting_and_dead() -> dict[str, dict[str, int]]:
    """Messages waiting (queued + delayed) and dead per broker queue; {} without a broker."""
    try:
        raw = queue_depths()
    except Exception as exc:
        log.debug("no queue depths: %s", type(exc).__name__)
        return {}
    return {q: {"waiting": d.get("queued", 0) + d.get("delayed", 0), "dead": d.get("dead", 0)} for q, d in raw.items()}
