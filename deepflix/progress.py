"""`deepflix make`'s progress: a Rich bar per stage, fed by the pipeline's StageEvents."""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TaskID, TextColumn, TimeElapsedColumn

from .film.plan import current
from .pipeline import StageEvent


class Bars:
    """Rich progress bars fed by pipeline StageEvents (called from worker threads)."""

    def __init__(self, progress: Progress) -> None:
        self.p = progress
        self.tasks: dict[str, TaskID] = {}
        self.counts: dict[str, list[int]] = {}  # stage -> [done, cached]
        self.started: dict[str, float] = {}

    def __call__(self, ev: object) -> None:
        assert isinstance(ev, StageEvent)
        st = ev.stage
        if st not in self.tasks:
            label = current()[st].label.lower() if st in current() else st
            self.tasks[st] = self.p.add_task(label, total=ev.total, status="")
            self.counts[st] = [0, 0]
            self.started[st] = time.perf_counter()
        task = self.tasks[st]
        if ev.status == "failed":
            self.p.update(task, status=f"failed · {ev.message}")
            return
        if ev.status == "progress":  # a provider's own progress (a clip's sampling steps)
            where = f"scene {ev.index + 1} " if ev.index is not None else ""
            self.p.update(task, completed=self.counts[st][0] + max(0.0, min(1.0, ev.fraction)),
                          status=f"{where}{ev.fraction:.0%}" + (f" · {ev.message[:60]}" if ev.message else ""))
            return
        if ev.status == "start":
            self.p.update(task, total=ev.total, status="running")
            self.p.start_task(task)
            return
        c = self.counts[st]
        c[0] += 1
        if ev.status == "cached":
            c[1] += 1
        took = time.perf_counter() - self.started[st]
        status = f"{c[1]} cached" if c[1] == c[0] else (f"{c[0] - c[1]} made, {c[1]} cached" if c[1] else "made")
        self.p.update(task, completed=c[0], status=f"{status} · {took:.1f}s" + (f" · {ev.message}" if ev.message else ""))


@contextmanager
def bars(console: Console) -> Iterator[Bars]:
    """The bars on ``console`` while the block runs; call the yielded Bars with each event."""
    progress = Progress(
        TextColumn("[bold]{task.description:<9}"),
        BarColumn(bar_width=28),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        TextColumn("{task.fields[status]}"),
        console=console,
        transient=False,
    )
    with progress:
        yield Bars(progress)
