"""Numbers for the operators' board and /metrics: jobs by state, stage
durations, queue depth, workers online, dead letters."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from ..db.base import utcnow
from ..db.models import MOVIE_STATUSES, STAGE_STATUSES, Movie, Stage
from ..film.plan import current
from .broker import get_broker
from .reconciler import dead_letters, queue_depths, workers_online


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
