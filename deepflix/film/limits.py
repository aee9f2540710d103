"""Time limits for stages run on threads in this process (``deepflix make``).

The job system has Dramatiq's time limit; in process, a stage the plan lets fail
(a clip: minutes on a GPU, and a still to fall back to) is given one too. A row
registers its thread while it runs; once its deadline passes, ``StageTimeLimit``
is raised in that thread (the way Dramatiq stops a thread at its limit), so the
provider's Python code stops at its next instruction and the runner discards
what it half made. Registration and the interrupt share a lock, so the
exception is only ever raised inside the row that overran.
"""

from __future__ import annotations

import ctypes
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager


class StageTimeLimit(BaseException):  # noqa: N818 (like KeyboardInterrupt: not an Exception, so nothing retries it)
    """A stage ran past its time limit and was stopped."""


class Watchdog:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._live: dict[object, tuple[int, float]] = {}  # token -> (thread ident, deadline)
        self.overran: set[object] = set()

    @contextmanager
    def limit(self, token: object, seconds: float) -> Iterator[None]:
        """Run the block with a deadline ``seconds`` from now."""
        with self._lock:
            self._live[token] = (threading.get_ident(), time.monotonic() + seconds)
        try:
            yield
        finally:
            with self._lock:
                self._live.pop(token, None)

    def next_deadline(self) -> float | None:
        """Seconds until the nearest deadline (None: nothing is limited)."""
        with self._lock:
            pending = [d for t, (_, d) in self._live.items() if t not in self.overran]
        return max(0.0, min(pending) - time.monotonic()) if pending else None

    def stop_overdue(self) -> None:
        """Interrupt every row past its deadline (once each)."""
        now = time.monotonic()
        with self._lock:
            for token, (ident, deadline) in self._live.items():
                if deadline <= now and token not in self.overran:
                    self.overran.add(token)
                    ctypes.pythonapi.PyThreadState_SetAsyncExc(ctypes.c_ulong(ident), ctypes.py_object(StageTimeLimit))
