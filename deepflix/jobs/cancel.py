"""Stopping a stage whose film was cancelled or deleted while it ran.

A worker runs each stage inside ``stage_guard(movie_id, stage_id)``. A watcher
thread asks the database, every DEEPFLIX_CANCEL_POLL seconds, whether the stage is
still wanted (its row still ``running``, its film still queued or running). When it
is not (the film was cancelled, deleted, or failed in another stage), the watcher

* kills every subprocess the stage's thread started (ffmpeg, espeak, ...) and their
  children: the processes are found because ``subprocess.Popen`` records, while a
  guard is active in the creating thread, the process it made;
* interrupts the stage's thread with ``StageCancelled`` (Dramatiq's own way of
  stopping a thread at its time limit), so Python-side work stops too.

The guard then raises StageCancelled from its block, whatever the stage was doing,
and the worker drops the stage (nothing is recorded: the film's rows already say
what happened). A subprocess started by a helper thread of the stage (the cut's
sound mix) is not attributed to it: it finishes, and the stage thread stops when
it has.
"""

from __future__ import annotations

import logging
import subprocess
import threading
import weakref
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from dramatiq.threading import Interrupt, raise_thread_exception
from sqlalchemy import select

from ..db.models import Movie, Stage
from ..db.session import read_session

log = logging.getLogger("deepflix.jobs")


class StageCancelled(Interrupt):
    """The stage's film no longer wants it (cancelled, deleted, failed elsewhere)."""


_guards: dict[int, StageGuard] = {}  # thread ident -> the guard of the stage that thread runs
_installed = False
_install_lock = threading.Lock()


def _install() -> None:
    """Wrap Popen.__init__ once per process: a process made in a guarded thread is
    recorded with that guard (cheap: one dict lookup per subprocess)."""
    global _installed
    with _install_lock:
        if _installed:
            return
        original = subprocess.Popen.__init__

        def init(self: subprocess.Popen[Any], *args: Any, **kwargs: Any) -> None:
            original(self, *args, **kwargs)
            guard = _guards.get(threading.get_ident())
            if guard is not None:
                guard.track(self)

        subprocess.Popen.__init__ = init  # type: ignore[method-assign]
        _installed = True


def _kill_tree(proc: subprocess.Popen[Any]) -> None:
    if proc.poll() is not None:
        return
    try:
        import psutil

        for child in psutil.Process(proc.pid).children(recursive=True):
            try:
                child.kill()
            except psutil.Error:
                pass
    except Exception:  # psutil missing or the process gone: the process itself still goes
        pass
    try:
        proc.kill()
    except OSError:
        pass


class StageGuard:
    def __init__(self, movie_id: str, stage_id: int, wanted: Callable[[], bool], poll: float) -> None:
        self.movie_id, self.stage_id, self.wanted, self.poll = movie_id, stage_id, wanted, poll
        self.thread_id = threading.get_ident()
        self.cancelled = threading.Event()
        self._procs: weakref.WeakSet[subprocess.Popen[Any]] = weakref.WeakSet()
        self._lock = threading.Lock()
        self._done = False
        self._stop = threading.Event()
        self._watcher = threading.Thread(target=self._watch, name=f"deepflix-cancel-{stage_id}", daemon=True)

    def track(self, proc: subprocess.Popen[Any]) -> None:
        with self._lock:
            self._procs.add(proc)
            late = self.cancelled.is_set()
        if late:  # started after the cancel was seen
            _kill_tree(proc)

    def _watch(self) -> None:
        while not self._stop.wait(self.poll):
            try:
                if self.wanted():
                    continue
            except Exception as exc:  # the database is away: keep working, ask again later
                log.debug("cancel check for stage %s failed: %s", self.stage_id, exc)
                continue
            self.cancel()
            return

    def cancel(self) -> None:
        with self._lock:
            if self._done or self.cancelled.is_set():
                return
            self.cancelled.set()
            procs = list(self._procs)
            log.info("stage %s of movie %s is no longer wanted: stopping it (%d subprocess(es))",
                     self.stage_id, self.movie_id, len(procs))
            for proc in procs:
                _kill_tree(proc)
            raise_thread_exception(self.thread_id, StageCancelled)

    def __enter__(self) -> StageGuard:
        _install()
        _guards[self.thread_id] = self
        self._watcher.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        with self._lock:
            self._done = True
        _guards.pop(self.thread_id, None)
        if self.cancelled.is_set():  # whatever the stage raised or returned, it was stopped
            raise StageCancelled(f"stage {self.stage_id} of movie {self.movie_id} was cancelled")


def still_wanted(movie_id: str, stage_id: int) -> bool:
    """The stage row is still running and its film still queued or running."""
    with read_session() as s:
        row = s.execute(
            select(Stage.status, Movie.status).join(Movie, Movie.id == Stage.movie_id)
            .where(Stage.id == stage_id, Stage.movie_id == movie_id)
        ).one_or_none()
    return row is not None and row[0] == "running" and row[1] in ("queued", "running")


@contextmanager
def stage_guard(movie_id: str, stage_id: int, poll: float) -> Iterator[StageGuard]:
    with StageGuard(movie_id, stage_id, lambda: still_wanted(movie_id, stage_id), poll) as guard:
        yield guard
