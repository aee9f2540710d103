"""A worker process that has grown hands over to a fresh one.

What a stage loads stays in the process that ran it (the Piper voice, the score's
SoundFont, OpenCV's and NumPy's pools; glibc keeps most freed memory), so a worker
that made every stage of a film in turn holds them all at once: 1.3-1.5 GB at the cut
of a 10-minute 1080p film (bench/fleet.py). After each stage, a worker process over
DEEPFLIX_WORKER_MAX_RSS_MB resident asks to be recycled (``due``); the process loop of
a supervised worker (``worker.run_worker_process``) then stops taking messages, lets
its running stages finish, exits, and its supervisor starts a fresh one. Workers
running inside another process (``deepflix serve``, tests) never act on it.

The limit is on the process's peak, not on what it keeps: the next stage needs room on
top of what the process holds (a 1080p segment 150-250 MB, its encoder's apart).
So each stage that ran alone is measured (the kernel's peak RSS, reset as it starts,
less what the process keeps after it) and the process is due once what it holds plus
the largest such room it has seen so far would pass the limit."""

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
_running = 0
_started = 0
_largest_rise = 0.0  # MB: the most a stage of this process, run alone, peaked above what it kept
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


def reset_peak() -> bool:
    """Start this process's peak RSS (VmHWM) again from what it holds now (Linux >= 4.0)."""
    try:
        with open("/proc/self/clear_refs", "w") as f:
            f.write("5")
        return True
    except OSError:
        return False


def peak_mb() -> float:
    """This process's peak resident memory in MB since it started or since ``reset_peak``."""
    try:
        with open("/proc/self/status") as f:
            for line in f:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024
    except (OSError, ValueError, IndexError):
        pass
    return 0.0


@contextmanager
def stage_running(limit_mb: int) -> Iterator[None]:
    """Around one stage: afterwards the process is due for recycling once what it holds
    plus the most room a stage of it has needed would pass ``limit_mb`` (0: no limit),
    unless this was its first stage."""
    global _finished, _running, _started, _largest_rise
    with _lock:
        _running += 1
        _started += 1
        mine = _started
        alone = _running == 1  # another stage's memory would be counted as this one's
        measured = alone and limit_mb > 0 and reset_peak()
        before = resident_mb() if measured else 0.0
    try:
        yield
    finally:
        with _lock:
            _running -= 1
            _finished += 1
            peak = peak_mb() if measured and _started == mine else 0.0
        give_back_freed()
        held = resident_mb() if limit_mb else 0.0
        if peak:
            with _lock:  # the room it needed above what it keeps (what it keeps is counted in ``held``)
                _largest_rise = max(_largest_rise, peak - held)
            log.debug("the stage held %.0f MB at its start, %.0f MB at its peak, %.0f MB after", before, peak, held)
        # never after a process's first stage: one that needs more than the limit alone
        # would need it again in a fresh process (recycling would only repeat its imports)
        if held + _largest_rise > limit_mb > 0 and _finished > 1 and not due.is_set():
            if _holds:  # a supervised process: only there does a fresh one take over
                log.info("this worker process holds %.0f MB after its stage and a stage has needed %.0f MB more "
                         "(limit %d MB): a fresh process takes over once its stages are done",
                         held, _largest_rise, limit_mb)
            due.set()
            for hold in _holds:
                hold()
