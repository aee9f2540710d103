"""`deepflix worker` and `deepflix jobs ...` (mounted by deepflix/cli/ through ``register``)."""

from __future__ import annotations

import json
from typing import Annotated

import typer

from ..core.private import service_umask
from ..db import migrate, read_session
from .broker import expand_queues
from .reconciler import dead_letters, reconcile
from .settings import job_settings
from .stats import queue_stats
from .worker import supervise

app = typer.Typer(help="The job system: workers, queue state, dead letters.", no_args_is_help=True,
                  add_completion=False)


def worker(
    queues: Annotated[str, typer.Option(help="gpu, cpu, gpu,cpu, or tiers like gpu.high")] = "gpu,cpu",
    processes: Annotated[int | None, typer.Option(help="worker processes (default DEEPFLIX_WORKER_PROCESSES)")] = None,
    threads: Annotated[int | None, typer.Option(help="threads per process (default DEEPFLIX_WORKER_THREADS)")] = None,
    reconcile: Annotated[bool, typer.Option(help="also run the reconciler (one pass at a time across the fleet)")] = True,
) -> None:
    """Run worker processes that take stages off the queues (REDIS_URL, DATABASE_URL)."""

    js = job_settings()
    expand_queues(queues)
    service_umask()  # the artifact cache it writes is this user's alone (security/private.py)
    raise typer.Exit(supervise(queues, processes or js.worker_processes, threads or js.worker_threads,
                               reconcile=reconcile))


app.command("worker")(worker)


@app.command("stats")
def stats() -> None:
    """Jobs by state, stage durations, queue depths, workers online, dead letters (JSON)."""

    migrate()
    with read_session() as s:
        typer.echo(json.dumps(queue_stats(s), indent=2, default=str))


@app.command("dead-letters")
def dead_letters_cmd(limit: Annotated[int, typer.Option(help="how many")] = 50) -> None:
    """Messages Dramatiq gave up on, newest first (JSON lines)."""

    for d in dead_letters(limit=limit):
        typer.echo(json.dumps(d))


@app.command("reconcile")
def reconcile_cmd() -> None:
    """One reconciler pass now: re-send stages no message carries, dispatch ready ones."""

    migrate()
    typer.echo(json.dumps(reconcile()))


def register(root: typer.Typer) -> None:
    """Mount `worker` at the top level and the rest under `jobs`."""
    root.command("worker")(worker)
    root.add_typer(app, name="jobs")
