"""A worker process that has grown hands over to a fresh one.

What a stage loads stays in the process that ran it (the Piper voice, the score's
SoundFont, OpenCV's and NumPy's pools; glibc keeps most freed memory), so a worker
that made every stage of a film in turn holds them all at once: 1.3-1.5 GB at the cut
of a 10-minute 1080p film (bench/fleet.py). After each stage, a worker process over
DEEPFLIX_WORKER_MAX_RSS_MB resident asks to be recycled (``due``); the process loop of
a supervised worker (``worker.run_worker_process``) then stops taking messages, lets
its running stages finish, exits, and its supervisor starts a fresh one. Workers
running inside another process (``deepflix serve``, tests) never act on it."""

from __future__ import annotations

import ctypes
import gc
import logging
import os
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager

log = logging.getLogger("deepflix.jobs")

due = threading.Event()
_lock = threading.Lock()
_finished = 0
_holds: list[Callable[[], None]] = []


def when_due(hold: Callable[[], None]) -> None:
    """``hold`` is called (from the stage's thread, so it must not wait) the moment the
    process is due: the supervised worker stops its consumers there, before the stage's
    message is acknowledged, so no further message is taken."""
    _holds.append(hold)


def give_back_freed() -> None:
    """Hand the heap that a stage freed back to the system: glibc keeps freed blocks
    for reuse (its mmap threshold grows with every large array freed, so later large
    arrays come from the heap too), and a worker that made a 10-minute film's score
    kept ~200 MB of it until its next stage needed it, or never. The next stage then
    starts from what the process really holds."""
    gc.collect()
    try:
        ctypes.CDLL(None).malloc_trim(0)
    except (OSError, AttributeError):  # not glibc: nothing to ask
        pass


def resident_mb() -> float:
    """This process's resident memory in MB (Linux; 0 where /proc is not there)."""
    try:
        with open("/proc/self/statm") as f:
            return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20
    except (OSError, ValueError, IndexError):
        return 0.0


@contextmanager
def stage_running(limit_mb: int) -> Iterator[None]:
    """Around one stage: afterwards, over ``limit_mb`` (0: no limit) the process is due
    for recycling, unless this was its first stage."""
    global _finished
    try:
        yield
    finally:
        with _lock:
            _finished += 1
        give_back_freed()
        held = resident_mb() if limit_mb else 0.0
        # never after a process's first stage: one that needs more than the limit alone
        # would need it again in a fresh process (recycling would only repeat its imports)
        if held > limit_mb > 0 and _finished > 1 and not due.is_set():
            if _holds:  # a supervised process: only there does a fresh one take over
                log.info("this worker process holds %.0f MB after its stage (limit %d MB): "
                         "a fresh process takes over once its stages are done", held, limit_mb)
            due.set()
            for hold in _holds:
                hold()
