"""The body of every stage actor: claim the stage in the database, compute it,
record the outcome. Attempts are counted in the database at claim time, so a
stage whose worker is killed every time ends failed after max_attempts
instead of looping; transient faults are retried by Dramatiq with backoff;
permanent ones fail the movie at once and keep its finished work."""

from __future__ import annotations

import logging
import os
import socket
import threading
import time

from dramatiq import Retry
from dramatiq.middleware import CurrentMessage
from dramatiq.middleware.time_limit import TimeLimitExceeded

from ..db.session import session_scope
from ..errors import DeepFlixError, InvalidInput, ProviderError, UnknownProviderError
from ..security.public_errors import public_message
from ..storage import open_store
from . import broker, recycle, state
from .cancel import StageCancelled, stage_guard
from .compute import ArtifactMissing, compute
from .dispatch import add_event
from .settings import job_settings, time_limit

log = logging.getLogger("deepflix.jobs")


class RetryStage(Exception):
    """Raised to hand a stage back to Dramatiq's retry with backoff."""


def worker_name() -> str:
    return f"{socket.gethostname()}:{os.getpid()}:{threading.current_thread().name}"


def _permanent(exc: BaseException) -> bool:
    if isinstance(exc, (InvalidInput, UnknownProviderError, ArtifactMissing)):
        return True
    if isinstance(exc, ProviderError):
        return not exc.transient
    return False


def _backoff(attempt: int) -> float:
    js = job_settings()
    return float(min(js.max_backoff, js.min_backoff * 2 ** max(0, attempt - 1)))


class _Progress:
    """A provider's progress, written as events at most once a second."""

    def __init__(self, job: state.Job) -> None:
        self.job, self.last = job, 0.0

    def __call__(self, fraction: float, message: str = "") -> None:
        now = time.monotonic()
        if now - self.last < 1.0 and fraction < 1.0:
            return
        self.last = now
        try:
            with session_scope() as s:
                add_event(s, self.job.movie_id, "progress", stage=self.job.stage, scene=self.job.scene,
                          message=message[:500], data={"fraction": round(float(fraction), 3)})
        except Exception as exc:  # progress is best effort; the work goes on
            log.debug("progress event lost: %s", exc)


def execute(movie_id: str, stage_id: int) -> None:
    with recycle.stage_running(job_settings().worker_max_rss_mb):
        _execute(movie_id, stage_id)


def _execute(movie_id: str, stage_id: int) -> None:
    js = job_settings()
    with session_scope() as s:
        job = state.claim(s, movie_id, stage_id, worker_name(), js.max_attempts)
    if job is None:
        return
    try:
        # the guard stops the stage (its subprocesses killed) once its film is cancelled or deleted
        with stage_guard(movie_id, stage_id, js.cancel_poll):
            done = compute(job, open_store(), progress=_Progress(job))
    except StageCancelled:
        log.info("stage %s of %s stopped: the film no longer wants it", job.stage, movie_id)
        return
    except TimeLimitExceeded:
        limit = time_limit(job.stage)
        with session_scope() as s:
            state.fail_stage(s, movie_id, stage_id, f"exceeded its time limit of {limit:.0f} s")
        return
    except Exception as exc:
        detail = str(exc) or type(exc).__name__
        if not isinstance(exc, DeepFlixError):
            log.exception("stage %s of %s failed", job.stage, movie_id)
            detail = f"{type(exc).__name__}: {detail}"
        else:  # the operator's log keeps the detail; the film's rows (shown to its user) get public words
            log.warning("stage %s (scene %s) of %s failed: %s", job.stage, job.scene, movie_id, detail)
        message = public_message(exc, job.stage, (job.options.get("providers") or {}).get(job.stage))
        if _permanent(exc) or job.attempts >= js.max_attempts:
            with session_scope() as s:
                state.fail_stage(s, movie_id, stage_id, message)
            return
        delay = _backoff(job.attempts)
        if isinstance(exc, ProviderError) and exc.retry_after:
            delay = max(delay, exc.retry_after)
        with session_scope() as s:
            state.retry_later(s, movie_id, stage_id, message, delay)
        msg = CurrentMessage.get_current_message()
        if msg is None:  # run outside a worker (tests, tools): nothing re-delivers it
            raise RetryStage(message) from exc
        raise Retry(message, delay=int(delay * 1000)) from exc
    with session_scope() as s:
        state.finish(s, movie_id, stage_id, done)


broker.handle(broker.STAGE_HANDLER, execute)  # every stage actor runs this (broker.py: it never imports us)
