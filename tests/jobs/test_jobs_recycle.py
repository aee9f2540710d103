"""A worker process that has grown past DEEPFLIX_WORKER_MAX_RSS_MB hands over to a fresh
one between its stages (jobs/recycle.py): the film finishes byte-identical, no stage is
run twice, and a process is never recycled after its first stage."""

from __future__ import annotations

import threading
import time

import jobs_fake_providers as fakes
import pytest
from conftest import JobsEnv, film_bytes, make_reference, wait_movie

from deepflix.db import session_scope
from deepflix.jobs import recycle
from deepflix.service import movies

PROMPT = "A lighthouse keeper finds a message"


def test_the_limit_is_checked_after_each_stage_but_the_first() -> None:
    recycle.due.clear()
    recycle._finished, recycle._largest_rise = 0, 0.0
    try:
        with recycle.stage_running(limit_mb=0):
            pass
        with recycle.stage_running(limit_mb=0):
            pass
        assert not recycle.due.is_set()  # 0: no limit
        recycle._finished = 0
        with recycle.stage_running(limit_mb=1):
            assert recycle.resident_mb() > 1
        assert not recycle.due.is_set()  # a fresh process's first stage: it would need the same again
        with recycle.stage_running(limit_mb=100_000):
            pass
        assert not recycle.due.is_set()  # under the limit
        with recycle.stage_running(limit_mb=1):
            pass
        assert recycle.due.is_set()
    finally:
        recycle.due.clear()


def test_the_room_a_stage_needed_counts_with_what_the_process_holds() -> None:
    import numpy as np

    recycle.due.clear()
    recycle._finished, recycle._largest_rise = 0, 0.0
    try:
        with recycle.stage_running(limit_mb=100_000):
            big = np.ones(200 * 2**20 // 8)  # 200 MB touched, then freed: the stage's own room
            del big
        assert 190 < recycle._largest_rise < 400, recycle._largest_rise
        held = recycle.resident_mb()
        limit = int(held + 100)  # what it holds is under the limit, but not with the room the stage needed
        with recycle.stage_running(limit_mb=limit):
            pass
        assert recycle.resident_mb() < limit and recycle.due.is_set()
    finally:
        recycle.due.clear()
        recycle._finished, recycle._largest_rise = 0, 0.0


def test_a_grown_worker_hands_over_between_stages(jobs_env: JobsEnv) -> None:
    # 1 MB: every process is over it, so each runs two stages and hands over
    jobs_env.spawn("worker", "--queues", "gpu,cpu", "--processes", "1", "--threads", "1",
                   DEEPFLIX_WORKER_MAX_RSS_MB="1")
    with session_scope() as s:
        mid = movies.submit_movie(s, "alice", prompt=PROMPT, num_sequences=2, seed=7, resolution="360p",
                                  providers=fakes.FAKES).id
    m = wait_movie(mid, timeout=180)
    assert m.status == "succeeded", f"{m.error}\n{jobs_env.logs()}"
    by_process: dict[str, int] = {}
    for st in m.stages:
        pid = st.worker.split(":")[1]
        by_process[pid] = by_process.get(pid, 0) + 1
    assert len(by_process) >= len(m.stages) // 2 and max(by_process.values()) <= 2, by_process
    assert all(st.attempts == 1 for st in m.stages), [(st.label, st.attempts) for st in m.stages]
    ref = make_reference(jobs_env.tmp, PROMPT, 2, 7)
    assert film_bytes(m) == ref.files["movie"].read_bytes()


def test_a_handover_does_not_wait_out_the_consumers_restart_delay(monkeypatch: pytest.MonkeyPatch) -> None:
    """A paused consumer leaves its fetch loop through dramatiq's restart path, which slept
    3 s (CONSUMER_RESTART_DELAY_SECS) before the consumer said it was paused: every handover
    held the worker idle that long."""
    from dramatiq import Worker
    from dramatiq import worker as dramatiq_worker
    from dramatiq.brokers.stub import StubBroker

    from deepflix.jobs.worker import hold_for_handover

    monkeypatch.setattr(dramatiq_worker, "CONSUMER_RESTART_DELAY_SECS", dramatiq_worker.CONSUMER_RESTART_DELAY_SECS)
    slept: list[float] = []
    real_sleep = time.sleep

    def sleep(seconds: float) -> None:
        if threading.current_thread() is not threading.main_thread():  # the worker's threads
            slept.append(seconds)
        real_sleep(min(seconds, 0.05))  # the test need not wait what it checks

    broker = StubBroker()
    broker.declare_queue("cpu.normal")
    worker = Worker(broker, worker_threads=1, worker_timeout=100)
    worker.start()
    try:
        real_sleep(0.3)  # the consumer in its fetch loop
        monkeypatch.setattr(dramatiq_worker.time, "sleep", sleep)
        hold_for_handover(worker)
        worker.pause()  # what the main loop waits for
        assert all(t.paused for t in (*worker.consumers.values(), *worker.workers))
    finally:
        monkeypatch.setattr(dramatiq_worker.time, "sleep", real_sleep)
        worker.stop(timeout=5000)
    assert slept and max(slept) < 1.0, slept  # the paused threads' 0.1-s naps, not the 3-s restart
