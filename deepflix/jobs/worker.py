"""Worker processes: `deepflix worker --queues gpu|cpu|gpu,cpu --processes N --threads M`,
and the in-process workers `deepflix serve` runs on one machine.

A worker process runs a Dramatiq Worker on our broker. With --processes N a
supervisor starts N of them, starts a new one when one dies (a killed worker
loses only the attempt it was running; its message comes back through the
heartbeat timeout and the reconciler) and runs the reconciler.
"""

from __future__ import annotations

import argparse
import importlib
import logging
import os
import signal
import socket
import subprocess
import sys
import threading
import time
import weakref
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

import dramatiq
from dramatiq import worker as dramatiq_worker

from .. import plugins
from ..core import config
from ..db import migrate
from ..plugins import providers
from . import recycle, tasks, webhook  # noqa: F401  (importing them hands the broker its actors' bodies)
from .broker import BrokerUnavailable, expand_queues, get_broker, redis_url, reset_broker
from .reconciler import Reconciler, announce_worker
from .redis_server import start_embedded_redis, stop_embedded_redis
from .settings import job_settings

log = logging.getLogger("deepflix.jobs")
_booted: weakref.WeakSet[Any] = weakref.WeakSet()  # brokers whose process_boot was emitted


def load_plugins(spec: str | None = None) -> list[str]:
    """Register extra provider modules (DEEPFLIX_PLUGINS) with the plugin manager."""

    names = [n.strip() for n in (spec if spec is not None else job_settings().plugins).split(",") if n.strip()]
    for name in names:
        mod = importlib.import_module(name)
        if not plugins.pm.is_registered(mod):
            plugins.pm.register(mod, name)
    if names:
        plugins.reset()
    return names


@dataclass
class WorkerHandle:
    worker: dramatiq.Worker
    queues: set[str]
    threads: int
    wid: str
    stop_event: threading.Event = field(default_factory=threading.Event)
    threads_extra: list[threading.Thread] = field(default_factory=list)

    def stop(self, timeout: float = 30.0) -> None:
        self.stop_event.set()
        for t in self.threads_extra:
            if isinstance(t, Reconciler):
                t.stop()
        self.worker.stop(timeout=int(timeout * 1000))


def start_worker(queues: set[str], threads: int, *, reconcile: bool = False) -> WorkerHandle:
    """Start a Dramatiq worker in this process (its threads run in the background)."""

    migrate()
    load_plugins()

    providers("story")  # import every provider module now, not inside the first stage a worker takes
    broker = get_broker()
    if broker not in _booted:  # starts the TimeLimit watchdog, once per broker
        broker.emit_after("process_boot")
        _booted.add(broker)
    # worker_timeout: how long an idle consumer sleeps between polls at most (and so the
    # latency between one stage and the next on a busy worker); 0.5 s costs Redis ~2
    # commands per second per queue per process
    worker = dramatiq.Worker(broker, queues=queues, worker_threads=threads, worker_timeout=500)
    # Prefetch no more than the threads can run: a busy worker must not hold
    # messages another idle worker could start (and a dead one loses fewer).
    worker.queue_prefetch = threads
    worker.start()
    wid = f"{socket.gethostname()}:{os.getpid()}"
    handle = WorkerHandle(worker, queues, threads, wid)

    def beat() -> None:
        info = {"id": wid, "host": socket.gethostname(), "pid": os.getpid(), "queues": sorted(queues),
                "threads": threads, "started": time.time()}
        period = max(1.0, job_settings().heartbeat_timeout / 3)
        while not handle.stop_event.is_set():
            try:
                announce_worker(broker, wid, info)
            except Exception as exc:
                log.debug("worker heartbeat failed: %s", exc)
            handle.stop_event.wait(period)

    hb = threading.Thread(target=beat, name="deepflix-heartbeat", daemon=True)
    hb.start()
    handle.threads_extra.append(hb)
    if reconcile:
        rec = Reconciler()
        rec.start()
        handle.threads_extra.append(rec)
    return handle


def hold_for_handover(worker: dramatiq.Worker) -> None:
    """No further message taken by this process, which hands over to a fresh one: pause()'s
    flags alone, set from the stage's thread (the main loop waits for them). A paused consumer
    leaves its fetch loop through dramatiq's consumer-restart path, which sleeps
    ``CONSUMER_RESTART_DELAY_SECS`` (3 s) before it reports paused: 3 s of every handover with
    the worker idle (the fleet's logs: 3.9-4.0 s from the decision to the shutdown). This
    process restarts no consumer again, so it sleeps none."""
    dramatiq_worker.CONSUMER_RESTART_DELAY_SECS = 0.0
    for t in (*worker.consumers.values(), *worker.workers):
        t.pause()


def run_worker_process(queues: str, threads: int) -> int:
    """One worker process, until SIGTERM or SIGINT."""
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s %(message)s")
    parent = os.getppid()
    handle = start_worker(expand_queues(queues), threads)
    recycle.when_due(lambda: hold_for_handover(handle.worker))
    done = threading.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: done.set())
    # a worker whose supervisor died (SIGKILL) stops too, instead of running on unsupervised
    while not done.wait(0.25):
        if os.getppid() != parent:
            log.warning("supervisor %d is gone; stopping", parent)
            break
        if recycle.due.is_set():  # grown past DEEPFLIX_WORKER_MAX_RSS_MB (recycle.py): the supervisor starts another
            handle.worker.pause()  # no more messages taken; returns once the running stages are done
            break
    handle.stop()
    return 0


def _safe(url: str) -> str:
    """A URL without its password, for messages."""

    parts = urlsplit(url)
    if parts.password:
        return url.replace(f":{parts.password}@", ":***@")
    return url


def _child_cmd(queues: str, threads: int) -> list[str]:
    return [sys.executable, "-m", "deepflix.jobs.worker", "--queues", queues, "--threads", str(threads)]


def _spawn(queues: str, threads: int) -> subprocess.Popen[bytes]:
    # its own process group: when the worker dies, the tools it started (ffmpeg) go with it
    return subprocess.Popen(_child_cmd(queues, threads), start_new_session=True)


def _reap_group(child: subprocess.Popen[bytes]) -> None:
    try:
        os.killpg(child.pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass


def supervise(queues: str, processes: int, threads: int, *, reconcile: bool = True,
              stop: threading.Event | None = None, on_start: Any = None) -> int:
    """Run N worker processes; a process that dies is replaced. Returns on SIGTERM/SIGINT or ``stop``."""
    expand_queues(queues)  # fail fast on a bad --queues, a missing Redis, a database that is down

    url = redis_url()
    try:
        get_broker().client.ping()
    except Exception as exc:
        raise BrokerUnavailable(f"cannot reach Redis at {_safe(url)}: {exc}") from exc
    migrate()
    stop = stop or threading.Event()
    if threading.current_thread() is threading.main_thread():
        for sig in (signal.SIGTERM, signal.SIGINT):
            signal.signal(sig, lambda *_: stop.set())
    children = [_spawn(queues, threads) for _ in range(processes)]
    born = [time.monotonic()] * processes
    quick_deaths = 0
    if on_start:
        on_start(children)
    rec = Reconciler() if reconcile else None
    if rec:
        rec.start()
    try:
        while not stop.wait(0.5):
            for i, child in enumerate(children):
                if child.poll() is not None:
                    handed_over = child.returncode == 0  # it asked for a fresh process (recycle.py)
                    (log.info if handed_over else log.warning)(
                        "worker process %d exited with %s; starting another", child.pid, child.returncode)
                    _reap_group(child)
                    # a process that dies at once (bad settings, no Redis) is restarted ever more slowly
                    quick_deaths = quick_deaths + 1 if time.monotonic() - born[i] < 5 and not handed_over else 0
                    if quick_deaths and stop.wait(min(30.0, 0.5 * 2 ** quick_deaths)):
                        break
                    children[i] = _spawn(queues, threads)
                    born[i] = time.monotonic()
                    if on_start:
                        on_start(children)
    finally:
        if rec:
            rec.stop()
        for child in children:
            if child.poll() is None:
                child.send_signal(signal.SIGTERM)
        deadline = time.monotonic() + 60
        for child in children:
            try:
                child.wait(max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                child.kill()
                child.wait()
            _reap_group(child)
    return 0


# --------------------------------------------------------------------------- one machine


@dataclass
class JobServices:
    """What `deepflix serve` runs besides the web app: the broker, workers, reconciler."""

    redis_url: str
    embedded: bool
    worker: WorkerHandle | None
    reconciler: Reconciler | None = None

    def stop(self) -> None:
        if self.reconciler is not None:
            self.reconciler.stop()
        if self.worker is not None:
            self.worker.stop()
        reset_broker()
        if self.embedded:
            stop_embedded_redis()


def start_services(threads: int | None = None, queues: str = "gpu,cpu", workers: bool = True) -> JobServices:
    """Start the job system in this process: the private Redis when REDIS_URL is
    unset, the database at head, in-process worker threads (none with
    workers=False, when `deepflix worker` processes do the work) and the reconciler."""

    embedded = not config.settings.redis_url
    url = start_embedded_redis() if embedded else redis_url()
    migrate()
    handle = start_worker(expand_queues(queues), threads or job_settings().worker_threads) if workers else None
    rec = Reconciler()
    rec.start()
    return JobServices(url, embedded, handle, rec)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m deepflix.jobs.worker")
    p.add_argument("--queues", default="gpu,cpu")
    p.add_argument("--threads", type=int, default=job_settings().worker_threads)
    a = p.parse_args(argv)
    return run_worker_process(a.queues, a.threads)


if __name__ == "__main__":
    sys.exit(main())
